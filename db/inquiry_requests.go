package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// InquiryRequestParams returns the parameters of the create request that made the inquiry
// (what staff entered in the New inquiry form), or ErrNotFound for an inquiry created
// elsewhere.
func (d *DB) InquiryRequestParams(ctx context.Context, inquiryID string) (string, error) {
	var params string
	err := d.R.QueryRowContext(ctx, `SELECT params FROM inquiry_requests WHERE inquiry_id = ? ORDER BY created_at LIMIT 1`, inquiryID).Scan(&params)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("db: inquiry request of %s: %w", inquiryID, err)
	}
	return params, nil
}
