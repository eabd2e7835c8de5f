package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/linkdesk/linkdesk/model"
)

// Inquiry is the cached copy of a Persona inquiry plus what the console knows about it.
type Inquiry struct {
	ID          string
	ReferenceID string
	TemplateID  string
	Status      model.Status
	Name        string // as staff typed it (or the first name Persona gave, for an adopted inquiry)
	IDName      string // the name read from the ID, when it differs from Name; set by UpsertInquiry
	Email       string
	Fields      map[string]string
	Note        string
	Tags        []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	StartedAt   time.Time
	CompletedAt time.Time
	FailedAt    time.Time
	DecidedAt   time.Time
	ExpiredAt   time.Time
	RedactedAt  time.Time
	ExpiresAt   time.Time
	// VersionAt orders updates: the newest of Persona's updated-at and the event's created-at
	// that produced this row. An update older than it is stale and loses.
	VersionAt time.Time
	SyncedAt  time.Time
	CreatedBy int64
	// NoteNotSent and TagsNotSent: the source left them out, so the cached ones are kept.
	NoteNotSent, TagsNotSent bool

	// Joined for display.
	CreatedByName string
	TemplateName  string
}

const inquiryCols = `i.id, i.reference_id, i.template_id, i.status, i.name, i.email, i.fields, i.note, i.tags,
	i.created_at, i.updated_at, i.started_at, i.completed_at, i.failed_at, i.decided_at, i.expired_at,
	i.redacted_at, i.expires_at, i.version_at, i.synced_at, COALESCE(i.created_by, 0),
	COALESCE(u.name, ''), COALESCE(t.name, ''), i.id_name`

const inquiryFrom = ` FROM inquiries i LEFT JOIN users u ON u.id = i.created_by LEFT JOIN templates t ON t.id = i.template_id`

func scanInquiry(row scanner) (*Inquiry, error) {
	var q Inquiry
	var fields, tags string
	var created, updated, version, synced int64
	var started, completed, failed, decided, expired, redacted, expires sql.NullInt64
	err := row.Scan(&q.ID, &q.ReferenceID, &q.TemplateID, &q.Status, &q.Name, &q.Email, &fields, &q.Note, &tags,
		&created, &updated, &started, &completed, &failed, &decided, &expired, &redacted, &expires, &version, &synced,
		&q.CreatedBy, &q.CreatedByName, &q.TemplateName, &q.IDName)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(fields), &q.Fields)
	json.Unmarshal([]byte(tags), &q.Tags)
	q.CreatedAt, q.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	q.VersionAt, q.SyncedAt = time.UnixMilli(version), time.UnixMilli(synced)
	q.StartedAt, q.CompletedAt, q.FailedAt = fromMS(started), fromMS(completed), fromMS(failed)
	q.DecidedAt, q.ExpiredAt, q.RedactedAt, q.ExpiresAt = fromMS(decided), fromMS(expired), fromMS(redacted), fromMS(expires)
	return &q, nil
}

// GetInquiry returns the cached inquiry.
func (d *DB) GetInquiry(ctx context.Context, id string) (*Inquiry, error) {
	q, err := scanInquiry(d.R.QueryRowContext(ctx, `SELECT `+inquiryCols+inquiryFrom+` WHERE i.id = ?`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("db: get inquiry %s: %w", id, err)
	}
	return q, err
}

// InquiriesByReference returns the cached inquiries with this reference ID, newest first.
func (d *DB) InquiriesByReference(ctx context.Context, ref string) ([]Inquiry, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT `+inquiryCols+inquiryFrom+` WHERE i.reference_id = ? ORDER BY i.created_at DESC, i.rowid DESC LIMIT 50`, ref)
	if err != nil {
		return nil, fmt.Errorf("db: inquiries by reference: %w", err)
	}
	defer rows.Close()
	var out []Inquiry
	for rows.Next() {
		q, err := scanInquiry(rows)
		if err != nil {
			return nil, fmt.Errorf("db: inquiries by reference: %w", err)
		}
		out = append(out, *q)
	}
	return out, rows.Err()
}

// upsertInquirySQL is UpsertInquiry's statement; the writer keeps it prepared (DB.upserting).
const upsertInquirySQL = `INSERT INTO inquiries (id, reference_id, template_id, status, name, email, fields, note, tags,
	created_at, updated_at, started_at, completed_at, failed_at, decided_at, expired_at, redacted_at, expires_at,
	version_at, synced_at, created_by, stage)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET
		reference_id = CASE WHEN excluded.reference_id = '' THEN inquiries.reference_id ELSE excluded.reference_id END,
		template_id = CASE WHEN excluded.template_id = '' THEN inquiries.template_id ELSE excluded.template_id END,
		status = excluded.status,
		name = CASE WHEN inquiries.name = '' OR excluded.redacted_at IS NOT NULL THEN excluded.name ELSE inquiries.name END,
		id_name = CASE WHEN excluded.redacted_at IS NOT NULL OR inquiries.name = '' THEN ''
			WHEN excluded.name = '' THEN inquiries.id_name
			WHEN excluded.name = inquiries.name THEN '' ELSE excluded.name END,
		email = CASE WHEN excluded.email = '' AND excluded.redacted_at IS NULL THEN inquiries.email ELSE excluded.email END,
		fields = CASE WHEN excluded.redacted_at IS NOT NULL THEN excluded.fields ELSE json_patch(inquiries.fields, excluded.fields) END,
		note = CASE WHEN ?23 THEN inquiries.note ELSE excluded.note END,
		tags = CASE WHEN ?24 THEN inquiries.tags ELSE excluded.tags END, created_at = excluded.created_at, updated_at = excluded.updated_at,
		started_at = excluded.started_at, completed_at = excluded.completed_at, failed_at = excluded.failed_at,
		decided_at = excluded.decided_at, expired_at = excluded.expired_at, redacted_at = excluded.redacted_at,
		expires_at = excluded.expires_at, version_at = excluded.version_at, synced_at = excluded.synced_at,
		created_by = COALESCE(inquiries.created_by, excluded.created_by), stage = excluded.stage
	WHERE excluded.version_at > inquiries.version_at
		OR (excluded.version_at = inquiries.version_at AND excluded.stage > inquiries.stage)`

// UpsertInquiry stores q if it is newer than the cached row by model.Version.Newer (the one
// freshness rule: version_at, then the stored stage on a tie), keeping the console's own
// columns (created_by) of an existing row. It reports whether the row was written.
//
// q.Name is Persona's name, which becomes the name read from the ID once the flow is done: a
// cached name is kept (it is what staff typed) and a different one is stored as id_name, so
// searching the typed name keeps working. Redaction clears both.
//
// An update never blanks the cache (absent is "not sent": newer Persona versions leave PII out):
// empty email, reference ID, template keep theirs, fields merge, note and tags need sending.
func UpsertInquiry(ctx context.Context, x execer, q Inquiry) (bool, error) {
	fields, _ := json.Marshal(q.Fields)
	if q.Fields == nil {
		fields = []byte("{}")
	}
	tags, _ := json.Marshal(q.Tags)
	if q.Tags == nil {
		tags = []byte("[]")
	}
	if q.SyncedAt.IsZero() {
		q.SyncedAt = time.Now()
	}
	res, err := x.ExecContext(ctx, upsertInquirySQL,
		q.ID, q.ReferenceID, q.TemplateID, q.Status, q.Name, q.Email, string(fields), q.Note, string(tags),
		q.CreatedAt.UnixMilli(), q.UpdatedAt.UnixMilli(), ms(q.StartedAt), ms(q.CompletedAt), ms(q.FailedAt),
		ms(q.DecidedAt), ms(q.ExpiredAt), ms(q.RedactedAt), ms(q.ExpiresAt), q.VersionAt.UnixMilli(),
		q.SyncedAt.UnixMilli(), nullID(q.CreatedBy), q.Status.Stage(), q.NoteNotSent, q.TagsNotSent)
	if err != nil {
		return false, fmt.Errorf("db: upsert inquiry %s: %w", q.ID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// upsertingTx is a transaction whose UpsertInquiry calls run the writer's prepared statement:
// compiling it, with the search index's and the counts' triggers, costs more than running it
// (a third of a webhook batch's writing when each call compiled it afresh).
type upsertingTx struct {
	*sql.Tx
	upsert *sql.Stmt
}

func (d *DB) upserting(tx *sql.Tx) upsertingTx { return upsertingTx{tx, d.upsert} }

func (u upsertingTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if query == upsertInquirySQL && u.upsert != nil {
		return u.Tx.StmtContext(ctx, u.upsert).ExecContext(ctx, args...)
	}
	return u.Tx.ExecContext(ctx, query, args...)
}

// SaveInquiry upserts q and writes the audit entry (when it has an action) in one transaction.
func (d *DB) SaveInquiry(ctx context.Context, q Inquiry, audit AuditEntry) (bool, error) {
	var changed bool
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if changed, err = UpsertInquiry(ctx, tx, q); err != nil {
			return err
		}
		if audit.Action == "" {
			return nil
		}
		return AddAudit(ctx, tx, audit)
	})
	return changed, err
}

// MarkSynced records that Persona confirmed the cached row is current.
func (d *DB) MarkSynced(ctx context.Context, id string, at time.Time) error {
	_, err := d.W.ExecContext(ctx, `UPDATE inquiries SET synced_at = ? WHERE id = ?`, at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("db: mark synced: %w", err)
	}
	return nil
}

// --- create requests (idempotency) ---

// Link is a hosted-flow link handed out.
type Link struct {
	ID           int64
	InquiryID    string
	Kind         string // inquiry, resume, one-time, template
	URL          string
	ExpiresAt    time.Time
	IssuedBy     int64
	IssuedByName string
	IssuedAt     time.Time
}

// AddLink records a link and its audit entry in one transaction.
func (d *DB) AddLink(ctx context.Context, l Link, audit AuditEntry) (int64, error) {
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = AddLinkTx(ctx, tx, l)
		if err != nil {
			return err
		}
		return AddAudit(ctx, tx, audit)
	})
	return id, err
}

// AddLinkTx records a link inside the caller's transaction.
func AddLinkTx(ctx context.Context, x execer, l Link) (int64, error) {
	if l.IssuedAt.IsZero() {
		l.IssuedAt = time.Now()
	}
	var inq any
	if l.InquiryID != "" {
		inq = l.InquiryID
	}
	res, err := x.ExecContext(ctx, `INSERT INTO links (inquiry_id, kind, url, expires_at, issued_by, issued_at) VALUES (?, ?, ?, ?, ?, ?)`,
		inq, l.Kind, l.URL, ms(l.ExpiresAt), nullID(l.IssuedBy), l.IssuedAt.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("db: add link: %w", err)
	}
	return res.LastInsertId()
}

// Links returns the links issued for an inquiry, newest first.
func (d *DB) Links(ctx context.Context, inquiryID string) ([]Link, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT l.id, COALESCE(l.inquiry_id, ''), l.kind, l.url, l.expires_at, COALESCE(l.issued_by, 0), COALESCE(u.name, ''), l.issued_at
		FROM links l LEFT JOIN users u ON u.id = l.issued_by WHERE l.inquiry_id = ? ORDER BY l.id DESC`, inquiryID)
	if err != nil {
		return nil, fmt.Errorf("db: links: %w", err)
	}
	out, err := scanLinks(rows)
	if err != nil {
		return nil, fmt.Errorf("db: links: %w", err)
	}
	return out, nil
}

// scanLinks reads rows of (id, inquiry id, kind, url, expires, issued by, its name, issued at)
// and closes them.
func scanLinks(rows *sql.Rows) ([]Link, error) {
	defer rows.Close()
	var out []Link
	for rows.Next() {
		var l Link
		var exp sql.NullInt64
		var issued int64
		if err := rows.Scan(&l.ID, &l.InquiryID, &l.Kind, &l.URL, &exp, &l.IssuedBy, &l.IssuedByName, &issued); err != nil {
			return nil, err
		}
		l.ExpiresAt, l.IssuedAt = fromMS(exp), time.UnixMilli(issued)
		out = append(out, l)
	}
	return out, rows.Err()
}
