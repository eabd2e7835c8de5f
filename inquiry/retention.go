package inquiry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

// Data retention: the personal data of the cached copy of an inquiry final for longer than the
// configured number of days is removed (see db.RemovePersonalData); ids, status, dates and the
// audit trail stay. Off (0 days) by default.

const keyRetentionDays = "retention.days"

// RetentionBy is who removed data removed by the rule, as its page says.
const RetentionBy = "the retention rule"

// MaxRetentionDays bounds the setting (about 27 years): a larger number is a typing slip.
const MaxRetentionDays = 10000

// retentionBatch bounds one transaction's work so webhooks are not held back behind a backlog.
const retentionBatch = 100

// RetentionDays returns the setting; 0: off.
func (s *Service) RetentionDays(ctx context.Context) (int, error) {
	v, err := s.db.Setting(ctx, keyRetentionDays)
	if errors.Is(err, db.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(v)
	return n, nil
}

// RetentionInput is the Data retention form.
type RetentionInput struct {
	Days      string // "" or "0": off
	AtPersona bool   // also ask Persona to redact each inquiry
}

// SaveRetention sets the rule from the Settings form. A field error comes back in words.
func (s *Service) SaveRetention(ctx context.Context, a model.Actor, form RetentionInput) (fieldErr string, err error) {
	in := strings.TrimSpace(form.Days)
	days := 0
	if in != "" {
		n, err := strconv.Atoi(in)
		if err != nil || n < 0 || n > MaxRetentionDays {
			return fmt.Sprintf("Enter a whole number of days from 1 to %d, or leave it empty to keep personal data.", MaxRetentionDays), nil
		}
		days = n
	}
	cur, err := s.RetentionDays(ctx)
	if err != nil {
		return "", err
	}
	curPersona, err := s.RetentionAtPersona(ctx)
	if err != nil || cur == days && curPersona == form.AtPersona {
		return "", err
	}
	detail := fmt.Sprintf("remove personal data of finished inquiries after %d days", days)
	if days == 0 {
		detail = "keep personal data of finished inquiries (retention rule off)"
	}
	if form.AtPersona {
		detail += "; ask Persona to redact them too"
	}
	return "", s.db.SetSettings(ctx, map[string]string{keyRetentionDays: strconv.Itoa(days), keyRetentionPersona: strconv.FormatBool(form.AtPersona)},
		audit(a, "settings.retention", "retention", detail, nil))
}

// ApplyRetention removes the personal data of every inquiry final since before now minus the
// setting; it returns how many it removed.
func (s *Service) ApplyRetention(ctx context.Context, now time.Time) (int, error) {
	days, err := s.RetentionDays(ctx)
	if err != nil || days <= 0 {
		return 0, err
	}
	atPersona, err := s.RetentionAtPersona(ctx)
	if err != nil {
		return 0, err
	}
	cutoff := now.Add(-time.Duration(days) * 24 * time.Hour)
	done := 0
	for {
		ids, err := s.db.PersonalDataDue(ctx, cutoff, retentionBatch)
		if err != nil || len(ids) == 0 {
			return done, err
		}
		for _, id := range ids {
			if atPersona {
				// Our copy goes regardless: a failure at Persona is audited and logged.
				if err := s.redactAtPersona(ctx, model.System, id); err != nil {
					s.log.Warn("retention: Persona did not redact the inquiry", "inquiry", id, "err", err)
				}
			}
			detail := fmt.Sprintf("personal data removed by the retention rule (finished more than %d days ago)", days)
			if err := s.db.RemovePersonalData(ctx, id, RetentionBy, now, audit(model.System, "inquiry.personal_data_removed", id, detail, nil)); err != nil {
				return done, err
			}
			done++
			s.changed(id)
		}
	}
}

// RemovePersonalData removes one inquiry's personal data by hand (an admin, after confirming).
func (s *Service) RemovePersonalData(ctx context.Context, a model.Actor, id string) error {
	err := s.db.RemovePersonalData(ctx, id, a.Name, time.Now(),
		audit(a, "inquiry.personal_data_removed", id, "personal data removed by hand", nil))
	if err == nil {
		s.changed(id)
	}
	return err
}

// RunRetention applies the rule now and then every interval until ctx ends.
func (s *Service) RunRetention(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.ApplyRetention(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("retention: removing personal data failed", "err", err, "removed", n)
		} else if n > 0 {
			s.log.Info("retention: personal data removed", "inquiries", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
