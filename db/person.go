package db

import (
	"context"
	"database/sql"
	"fmt"
)

// PersonLimit bounds what a person's page reads of each kind. Persona groups a person's
// inquiries by reference ID; a real person has a handful, so the bound only guards against a
// reference ID shared by mistake (e.g. "test") flooding the page.
const PersonLimit = 500

// Person is everything cached for one reference ID: Persona's notion of an account.
type Person struct {
	ReferenceID string
	Inquiries   []Inquiry     // newest first, including those adopted from webhooks
	Links       []Link        // issued for any of them, newest first
	Emails      []OutboxEmail // sent (or queued) for any of them, newest first
}

// Person returns the inquiries, links and emails of a reference ID (matched ignoring case, as
// the column is), or ErrNotFound when no inquiry carries it.
func (d *DB) Person(ctx context.Context, ref string) (*Person, error) {
	if ref == "" {
		return nil, ErrNotFound // inquiries without a reference ID are not one person
	}
	p := &Person{ReferenceID: ref}
	// One read transaction, so the three lists agree with each other.
	tx, err := d.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("db: person: %w", err)
	}
	defer tx.Rollback()

	rows, err := tx.QueryContext(ctx, `SELECT `+inquiryCols+inquiryFrom+`
		WHERE i.reference_id = ? ORDER BY i.created_at DESC, i.id DESC LIMIT ?`, ref, PersonLimit)
	if err != nil {
		return nil, fmt.Errorf("db: person inquiries: %w", err)
	}
	for rows.Next() {
		q, err := scanInquiry(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("db: person inquiries: %w", err)
		}
		p.Inquiries = append(p.Inquiries, *q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: person inquiries: %w", err)
	}
	if len(p.Inquiries) == 0 {
		return nil, ErrNotFound
	}
	p.ReferenceID = p.Inquiries[0].ReferenceID // as stored, not as typed in the URL

	rows, err = tx.QueryContext(ctx, `SELECT l.id, l.inquiry_id, l.kind, l.url, l.expires_at, COALESCE(l.issued_by, 0), COALESCE(u.name, ''), l.issued_at
		FROM links l JOIN inquiries i ON i.id = l.inquiry_id LEFT JOIN users u ON u.id = l.issued_by
		WHERE i.reference_id = ? ORDER BY l.id DESC LIMIT ?`, ref, PersonLimit)
	if err != nil {
		return nil, fmt.Errorf("db: person links: %w", err)
	}
	if p.Links, err = scanLinks(rows); err != nil {
		return nil, fmt.Errorf("db: person links: %w", err)
	}

	rows, err = tx.QueryContext(ctx, `SELECT `+outboxColumns+outboxFrom+` JOIN inquiries i ON i.id = o.inquiry_id
		WHERE i.reference_id = ? ORDER BY o.id DESC LIMIT ?`, ref, PersonLimit)
	if err != nil {
		return nil, fmt.Errorf("db: person emails: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEmail(rows)
		if err != nil {
			return nil, fmt.Errorf("db: person emails: %w", err)
		}
		p.Emails = append(p.Emails, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: person emails: %w", err)
	}
	return p, nil
}
