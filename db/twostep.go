package db

import (
	"context"
	"database/sql"
	"fmt"
)

// SetTOTPPending stores a secret being set up for user id.
func (d *DB) SetTOTPPending(ctx context.Context, id int64, secret string) error {
	if _, err := d.W.ExecContext(ctx, `UPDATE users SET totp_pending = ? WHERE id = ?`, secret, id); err != nil {
		return fmt.Errorf("db: two-step set-up: %w", err)
	}
	return nil
}

// EnableTOTP turns two-step sign-in on as part of tx: the confirmed secret, the step of the
// code that confirmed it, and new recovery codes' hashes in place of any old ones. It fails if
// the secret being set up changed meanwhile (another tab started over).
func EnableTOTP(ctx context.Context, tx *sql.Tx, id int64, secret string, step int64, recoveryHashes []string) error {
	res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = ?, totp_pending = '', totp_last_step = ?, updated_at = ?
		WHERE id = ? AND totp_pending = ? AND totp_secret = ''`, secret, step, Now(), id, secret)
	if err != nil {
		return fmt.Errorf("db: turn on two-step: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, id); err != nil {
		return fmt.Errorf("db: recovery codes: %w", err)
	}
	for _, h := range recoveryHashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?)`, id, h); err != nil {
			return fmt.Errorf("db: recovery codes: %w", err)
		}
	}
	return nil
}

// DisableTOTP turns two-step sign-in off as part of tx, dropping the recovery codes.
func DisableTOTP(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = '', totp_pending = '', totp_last_step = 0, updated_at = ? WHERE id = ?`, Now(), id); err != nil {
		return fmt.Errorf("db: reset two-step: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, id); err != nil {
		return fmt.Errorf("db: recovery codes: %w", err)
	}
	return nil
}

// UseTOTPStep records that a code for step was accepted; fresh is false when a code for it (or
// a later step) was accepted before: one statement, so two requests cannot both use one code.
func (d *DB) UseTOTPStep(ctx context.Context, id, step int64) (fresh bool, err error) {
	res, err := d.W.ExecContext(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ? AND totp_secret <> ''`, step, id, step)
	if err != nil {
		return false, fmt.Errorf("db: use two-step code: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UseRecoveryCode spends the unused recovery code with this hash; ok is false when there is
// none. left is how many unused remain.
func (d *DB) UseRecoveryCode(ctx context.Context, id int64, hash string) (left int, ok bool, err error) {
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at IS NULL`, Now(), id, hash)
		if err != nil {
			return fmt.Errorf("db: use recovery code: %w", err)
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, id).Scan(&left)
	})
	return left, ok, err
}

// RecoveryCodesLeft counts user id's unused recovery codes.
func (d *DB) RecoveryCodesLeft(ctx context.Context, id int64) (int, error) {
	var n int
	if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: recovery codes left: %w", err)
	}
	return n, nil
}
