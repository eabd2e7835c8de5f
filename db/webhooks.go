package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Webhook verdicts. An event row starts received and becomes applied, stale or ignored;
// duplicates and refused deliveries never become rows and are only counted.
const (
	VerdictReceived     = "received"
	VerdictApplied      = "applied"
	VerdictStale        = "stale"   // older than the cached row: not applied
	VerdictIgnored      = "ignored" // not about an inquiry
	VerdictDuplicate    = "duplicate"
	VerdictBadSignature = "bad_signature"
	VerdictOldSignature = "stale_signature"
	VerdictMalformed    = "malformed"
)

// WebhookEvent is a stored Persona event.
type WebhookEvent struct {
	ID         string // evt_...
	Name       string
	InquiryID  string
	EventAt    time.Time
	ReceivedAt time.Time
	Verdict    string
	Payload    string
}

// Rejection is a delivery refused before it became an event (or a duplicate), to be counted.
type Rejection struct {
	Verdict string // VerdictBadSignature, VerdictOldSignature, VerdictMalformed, VerdictDuplicate
	Detail  string
	At      time.Time
}

func bumpCounter(ctx context.Context, tx *sql.Tx, name string, n int, at time.Time, detail string) error {
	if n == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO webhook_counters (name, n, last_at, last_detail) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET n = n + excluded.n, last_at = max(last_at, excluded.last_at),
			last_detail = CASE WHEN excluded.last_detail != '' THEN excluded.last_detail ELSE last_detail END`,
		name, n, at.UnixMilli(), detail)
	if err != nil {
		return fmt.Errorf("db: count webhook %s: %w", name, err)
	}
	return nil
}

// StoreWebhookEvents stores new events as received and counts rejections, in one transaction,
// without applying them: the state a failed apply leaves (tests set it up with this).
// fresh[i] is false when evs[i] was stored before: a duplicate delivery, counted as such.
func (d *DB) StoreWebhookEvents(ctx context.Context, evs []WebhookEvent, rejected []Rejection) (fresh []bool, err error) {
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		fresh, err = storeEvents(ctx, tx, evs, rejected)
		return err
	})
	return fresh, err
}

// ReceiveWebhookEvents stores new events and applies the fresh ones in one commit, so a burst of
// deliveries costs one commit, not one per step: each commit makes every reader start its next
// read with a cold cache. Applying runs under a savepoint: when it fails, the events are still
// stored, as received, for ApplyPending, and applyErr says why.
func (d *DB) ReceiveWebhookEvents(ctx context.Context, items []EventApply, rejected []Rejection) (fresh []bool, changed []string, applyErr error, err error) {
	evs := make([]WebhookEvent, len(items))
	for i, it := range items {
		evs[i] = it.Event
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		if fresh, err = storeEvents(ctx, tx, evs, rejected); err != nil {
			return err
		}
		var apply []EventApply
		for i, it := range items {
			if fresh[i] {
				apply = append(apply, it)
			}
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT apply"); err != nil {
			return err
		}
		if _, changed, applyErr = applyEvents(ctx, d.upserting(tx), apply); applyErr != nil {
			changed = nil
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO apply"); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, "RELEASE apply")
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return fresh, changed, applyErr, nil
}

func storeEvents(ctx context.Context, tx *sql.Tx, evs []WebhookEvent, rejected []Rejection) ([]bool, error) {
	fresh := make([]bool, len(evs))
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO webhook_events (id, name, inquiry_id, event_at, received_at, verdict, payload)
		VALUES (?, ?, ?, ?, ?, 'received', ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("db: store webhook events: %w", err)
	}
	defer stmt.Close()
	for i, e := range evs {
		res, err := stmt.ExecContext(ctx, e.ID, e.Name, e.InquiryID, e.EventAt.UnixMilli(), e.ReceivedAt.UnixMilli(), e.Payload)
		if err != nil {
			return nil, fmt.Errorf("db: store webhook event %s: %w", e.ID, err)
		}
		n, _ := res.RowsAffected()
		fresh[i] = n > 0
		if n == 0 {
			rejected = append(rejected, Rejection{Verdict: VerdictDuplicate, Detail: e.ID, At: e.ReceivedAt})
		}
	}
	for _, r := range rejected {
		if err := bumpCounter(ctx, tx, r.Verdict, 1, r.At, r.Detail); err != nil {
			return nil, err
		}
	}
	return fresh, nil
}

// EventApply is an event with the cached row it carries (nil: not about an inquiry).
type EventApply struct {
	Event WebhookEvent
	Row   *Inquiry
}

// ApplyWebhookEvents applies stored events to the cache in one transaction (see applyEvents).
func (d *DB) ApplyWebhookEvents(ctx context.Context, items []EventApply) (verdicts []string, changed []string, err error) {
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		verdicts, changed, err = applyEvents(ctx, d.upserting(tx), items)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return verdicts, changed, nil
}

// applyEvents applies stored events to the cache: each row is written only if it is newer than
// the cached one (UpsertInquiry's freshness rule), so duplicates and late deliveries never move
// a status backwards; an inquiry never seen is adopted. An event that writes nothing is stale.
// It returns the verdict of each event and the ids of the rows that changed.
func applyEvents(ctx context.Context, tx upsertingTx, items []EventApply) (verdicts []string, changed []string, err error) {
	verdicts = make([]string, len(items))
	counts := map[string]int{}
	for i, it := range items {
		// Only events still waiting: a re-apply pass may race the receiver for the same event.
		var current string
		err := tx.QueryRowContext(ctx, `SELECT verdict FROM webhook_events WHERE id = ?`, it.Event.ID).Scan(&current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, nil, fmt.Errorf("db: apply webhook event %s: %w", it.Event.ID, err)
		}
		if current != VerdictReceived {
			verdicts[i] = current
			continue
		}
		v := VerdictIgnored
		if it.Row != nil {
			ok, err := UpsertInquiry(ctx, tx, *it.Row)
			if err != nil {
				return nil, nil, err
			}
			v = VerdictStale
			if ok {
				v = VerdictApplied
				changed = append(changed, it.Row.ID)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_events SET verdict = ? WHERE id = ?`, v, it.Event.ID); err != nil {
			return nil, nil, fmt.Errorf("db: apply webhook event %s: %w", it.Event.ID, err)
		}
		verdicts[i] = v
		counts[v]++
	}
	now := time.Now()
	for name, n := range counts {
		if err := bumpCounter(ctx, tx.Tx, name, n, now, ""); err != nil {
			return nil, nil, err
		}
	}
	return verdicts, changed, nil
}

// PendingWebhookEvents returns up to limit events stored but not applied yet, oldest first.
func (d *DB) PendingWebhookEvents(ctx context.Context, limit int) ([]WebhookEvent, error) {
	return d.webhookEvents(ctx, `WHERE verdict = 'received' ORDER BY received_at LIMIT ?`, limit)
}

// RecentWebhookEvents returns the newest events received, newest first.
func (d *DB) RecentWebhookEvents(ctx context.Context, limit int) ([]WebhookEvent, error) {
	return d.webhookEvents(ctx, `ORDER BY received_at DESC LIMIT ?`, limit)
}

// InquiryWebhookEvents returns up to limit events about one inquiry, newest first: the
// changes Persona made, for the detail page's activity.
func (d *DB) InquiryWebhookEvents(ctx context.Context, inquiryID string, limit int) ([]WebhookEvent, error) {
	return d.webhookEvents(ctx, `WHERE inquiry_id = ? ORDER BY event_at DESC LIMIT ?`, inquiryID, limit)
}

func (d *DB) webhookEvents(ctx context.Context, tail string, args ...any) ([]WebhookEvent, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT id, name, inquiry_id, event_at, received_at, verdict, payload FROM webhook_events `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("db: webhook events: %w", err)
	}
	defer rows.Close()
	var out []WebhookEvent
	for rows.Next() {
		var e WebhookEvent
		var at, recv int64
		if err := rows.Scan(&e.ID, &e.Name, &e.InquiryID, &at, &recv, &e.Verdict, &e.Payload); err != nil {
			return nil, fmt.Errorf("db: webhook events: %w", err)
		}
		e.EventAt, e.ReceivedAt = time.UnixMilli(at), time.UnixMilli(recv)
		out = append(out, e)
	}
	return out, rows.Err()
}

// WebhookCounter is one verdict's tally.
type WebhookCounter struct {
	N          int64
	LastAt     time.Time
	LastDetail string
}

// WebhookStats is what the Webhooks page shows.
type WebhookStats struct {
	Counters     map[string]WebhookCounter // by verdict
	LastReceived time.Time                 // zero: never
	Pending      int64                     // stored, not applied yet
}

// WebhookStats reads the counters, the newest delivery time and the backlog.
func (d *DB) WebhookStats(ctx context.Context) (*WebhookStats, error) {
	st := &WebhookStats{Counters: map[string]WebhookCounter{}}
	rows, err := d.R.QueryContext(ctx, `SELECT name, n, last_at, last_detail FROM webhook_counters`)
	if err != nil {
		return nil, fmt.Errorf("db: webhook stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var c WebhookCounter
		var at int64
		if err := rows.Scan(&name, &c.N, &at, &c.LastDetail); err != nil {
			return nil, fmt.Errorf("db: webhook stats: %w", err)
		}
		c.LastAt = time.UnixMilli(at)
		st.Counters[name] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: webhook stats: %w", err)
	}
	var last sql.NullInt64
	if err := d.R.QueryRowContext(ctx, `SELECT max(received_at) FROM webhook_events`).Scan(&last); err != nil {
		return nil, fmt.Errorf("db: webhook stats: %w", err)
	}
	st.LastReceived = fromMS(last)
	if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM webhook_events WHERE verdict = 'received'`).Scan(&st.Pending); err != nil {
		return nil, fmt.Errorf("db: webhook stats: %w", err)
	}
	return st, nil
}

// LastWebhookAt returns when the newest event arrived (zero: never).
func (d *DB) LastWebhookAt(ctx context.Context) (time.Time, error) {
	var last sql.NullInt64
	if err := d.R.QueryRowContext(ctx, `SELECT max(received_at) FROM webhook_events`).Scan(&last); err != nil {
		return time.Time{}, fmt.Errorf("db: last webhook: %w", err)
	}
	return fromMS(last), nil
}

// PruneWebhookEvents forgets applied events received before the cutoff (Persona stops retrying
// after about three days, so their ids are no longer needed to spot duplicates), in batches so
// the writer is never held long. Events still waiting are kept.
func (d *DB) PruneWebhookEvents(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := d.W.ExecContext(ctx, `DELETE FROM webhook_events WHERE rowid IN (SELECT rowid FROM webhook_events
			WHERE received_at < ? AND verdict != 'received' ORDER BY received_at LIMIT 1000)`, before.UnixMilli())
		if err != nil {
			return total, fmt.Errorf("db: prune webhook events: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < 1000 {
			return total, nil
		}
	}
}
