package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ActionKeyTTL is how long Persona keeps an Idempotency-Key's answer; an older key would no
// longer protect anything, so a fresh one replaces it.
const ActionKeyTTL = 24 * time.Hour

// ActionKey returns the Idempotency-Key stored for (inquiry, action, request key), storing
// fresh first when there is none. Call it before calling Persona.
func (d *DB) ActionKey(ctx context.Context, inquiryID, action, requestKey, fresh string) (string, error) {
	now := time.Now()
	var key string
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM action_keys WHERE created_at < ?`, now.Add(-ActionKeyTTL).UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO action_keys (inquiry_id, action, request_key, idempotency_key, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (inquiry_id, action, request_key) DO NOTHING`,
			inquiryID, action, requestKey, fresh, now.UnixMilli()); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT idempotency_key FROM action_keys WHERE inquiry_id = ? AND action = ? AND request_key = ?`,
			inquiryID, action, requestKey).Scan(&key)
	})
	if err != nil {
		return "", fmt.Errorf("db: action key for %s %s: %w", action, inquiryID, err)
	}
	return key, nil
}

// DropActionKey forgets the key once it has done its work (the action succeeded, or Persona
// refused it for good), so the next action of that kind gets a new key.
func (d *DB) DropActionKey(ctx context.Context, inquiryID, action, requestKey string) error {
	if _, err := d.W.ExecContext(ctx, `DELETE FROM action_keys WHERE inquiry_id = ? AND action = ? AND request_key = ?`,
		inquiryID, action, requestKey); err != nil {
		return fmt.Errorf("db: drop action key for %s %s: %w", action, inquiryID, err)
	}
	return nil
}
