package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/model"
)

// removedMark stands where personal data was, in texts that are kept (audit details).
const removedMark = "[removed]"

// PersonalDataDue returns up to limit inquiries final since before cutoff (Persona's last
// update) whose personal data is still cached.
func (d *DB) PersonalDataDue(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	var final []string
	for _, s := range model.Statuses {
		if s.Final() {
			final = append(final, "'"+string(s)+"'")
		}
	}
	rows, err := d.R.QueryContext(ctx, `SELECT id FROM inquiries
		WHERE personal_removed_at IS NULL AND updated_at < ? AND status IN (`+strings.Join(final, ",")+`)
		ORDER BY updated_at LIMIT ?`, cutoff.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("db: inquiries due for removal: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("db: inquiries due for removal: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// PersonalDataRemoved says when and by whom an inquiry's personal data was removed (zero: not).
func (d *DB) PersonalDataRemoved(ctx context.Context, id string) (time.Time, string, error) {
	var at sql.NullInt64
	var by string
	err := d.R.QueryRowContext(ctx, `SELECT personal_removed_at, personal_removed_by FROM inquiries WHERE id = ?`, id).Scan(&at, &by)
	if err == sql.ErrNoRows {
		return time.Time{}, "", ErrNotFound
	}
	if err != nil {
		return time.Time{}, "", fmt.Errorf("db: personal data removed %s: %w", id, err)
	}
	return fromMS(at), by, nil
}

// RemovePersonalData blanks the personal data cached about inquiry id in every table that held
// it (the inquiry's names, email, fields and note; its stored create requests; its emails'
// recipients, subjects and bodies; its webhook events' payloads; its bulk-send rows' input) and
// writes those values out of its audit entries, which stay. by is who removed it, for its page.
// The writer connection zeroes what it frees meanwhile (secure_delete), so the values do not
// linger in the file's free space. Removing again is harmless: it clears what arrived since.
func (d *DB) RemovePersonalData(ctx context.Context, id, by string, at time.Time, audit AuditEntry) error {
	conn, err := d.W.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: remove personal data %s: %w", id, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
		return fmt.Errorf("db: remove personal data %s: %w", id, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA secure_delete = OFF")
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: remove personal data %s: %w", id, err)
	}
	defer tx.Rollback()
	if err := removePersonalData(ctx, tx, id, by, at, audit); err != nil {
		return fmt.Errorf("db: remove personal data %s: %w", id, err)
	}
	return tx.Commit()
}

func removePersonalData(ctx context.Context, tx *sql.Tx, id, by string, at time.Time, audit AuditEntry) error {
	values, err := personalValues(ctx, tx, id)
	if err != nil {
		return err
	}
	for _, q := range []string{
		`UPDATE inquiries SET name = '', id_name = '', email = '', fields = '{}', note = '',
			personal_removed_at = coalesce(personal_removed_at, ?2), personal_removed_by = CASE WHEN personal_removed_at IS NULL THEN ?3 ELSE personal_removed_by END
			WHERE id = ?1`,
		`UPDATE inquiry_requests SET params = '{}' WHERE inquiry_id = ?1 AND params != '{}'`,
		`UPDATE outbox SET recipient = '', subject = '` + removedMark + `', body_text = '', body_html = '', last_error = ''
			WHERE inquiry_id = ?1 AND recipient != ''`,
		`UPDATE webhook_events SET payload = '{}' WHERE inquiry_id = ?1 AND payload != '{}'`,
		`UPDATE bulk_rows SET input = '{}' WHERE inquiry_id = ?1 AND input != '{}'`,
	} {
		if _, err := tx.ExecContext(ctx, q, id, at.UnixMilli(), by); err != nil {
			return err
		}
	}
	if err := scrubAudit(ctx, tx, id, values); err != nil {
		return err
	}
	return AddAudit(ctx, tx, audit)
}

// personalValues collects the texts about the person the inquiry's rows hold, to find them in
// audit details.
func personalValues(ctx context.Context, tx *sql.Tx, id string) ([]string, error) {
	seen := map[string]bool{}
	add := func(s string) {
		if s = strings.TrimSpace(s); len(s) >= 3 {
			seen[s] = true
		}
	}
	var name, idName, email, fields, note string
	err := tx.QueryRowContext(ctx, `SELECT name, id_name, email, fields, note FROM inquiries WHERE id = ?`, id).
		Scan(&name, &idName, &email, &fields, &note)
	if err == sql.ErrNoRows {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	for _, s := range []string{name, idName, email, note} {
		add(s)
	}
	addJSON(fields, add)
	for _, q := range []string{
		`SELECT params FROM inquiry_requests WHERE inquiry_id = ?`,
		`SELECT recipient FROM outbox WHERE inquiry_id = ?`,
		`SELECT input FROM bulk_rows WHERE inquiry_id = ?`,
	} {
		rows, err := tx.QueryContext(ctx, q, id)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, err
			}
			if strings.HasPrefix(s, "{") {
				addJSON(s, add)
			} else {
				add(s)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	return out, nil
}

// addJSON passes every string in a JSON document to add.
func addJSON(doc string, add func(string)) {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			add(v)
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
}

// scrubAudit writes values out of the details of the inquiry's audit entries.
func scrubAudit(ctx context.Context, tx *sql.Tx, id string, values []string) error {
	if len(values) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, detail FROM audit_log WHERE target = ? AND detail != ''`, id)
	if err != nil {
		return err
	}
	changed := map[int64]string{}
	for rows.Next() {
		var n int64
		var detail string
		if err := rows.Scan(&n, &detail); err != nil {
			rows.Close()
			return err
		}
		if s := replaceFold(detail, values); s != detail {
			changed[n] = s
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for n, s := range changed {
		if _, err := tx.ExecContext(ctx, `UPDATE audit_log SET detail = ? WHERE id = ?`, s, n); err != nil {
			return err
		}
	}
	return nil
}

// replaceFold replaces every value in s, ignoring case, with removedMark.
func replaceFold(s string, values []string) string {
	for _, v := range values {
		ls, lv := strings.ToLower(s), strings.ToLower(v)
		if len(ls) != len(s) || len(lv) != len(v) { // case folding moved bytes: exact matches only
			s = strings.ReplaceAll(s, v, removedMark)
			continue
		}
		var out strings.Builder
		for {
			i := strings.Index(ls, lv)
			if i < 0 {
				break
			}
			out.WriteString(s[:i] + removedMark)
			s, ls = s[i+len(v):], ls[i+len(v):]
		}
		out.WriteString(s)
		s = out.String()
	}
	return s
}
