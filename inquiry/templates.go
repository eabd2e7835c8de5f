package inquiry

import (
	"context"
	"regexp"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

// Inquiry templates: the ones staff create from, each with its name, whether it is the default
// and its reminder days. Every write to them is here, with its audit entry.

var reminderRe = regexp.MustCompile(`^\s*\d{1,2}(\s*,\s*\d{1,2})*\s*$`)

// SaveTemplate checks t and stores it (made the default, when it says so) with its audit entry.
// Problems with the values come back in words by field (id, name, reminder_days), and nothing
// is stored then.
func (s *Service) SaveTemplate(ctx context.Context, a model.Actor, t db.Template) (map[string]string, error) {
	errs := map[string]string{}
	if !strings.HasPrefix(t.ID, "itmpl_") && !strings.HasPrefix(t.ID, "itmplv_") || len(t.ID) > 64 || strings.ContainsAny(t.ID, " /?&#") {
		errs["id"] = "Template ids start with itmpl_ (or itmplv_ for a pinned version)."
	}
	if t.Name == "" || len(t.Name) > 100 {
		errs["name"] = "Enter a name of up to 100 characters."
	}
	if t.ReminderDays != "" && !reminderRe.MatchString(t.ReminderDays) {
		errs["reminder_days"] = "Enter whole days separated by commas, e.g. 1,3."
	}
	if len(errs) > 0 {
		return errs, nil
	}
	return nil, s.db.SaveTemplate(ctx, t, audit(a, "template.save", t.ID, t.Name, nil))
}

// DeleteTemplate forgets a template (inquiries made from it keep its id) with its audit entry.
func (s *Service) DeleteTemplate(ctx context.Context, a model.Actor, id string) error {
	return s.db.DeleteTemplate(ctx, id, audit(a, "template.remove", id, "", nil))
}

// ImportTemplates adds Persona's inquiry templates to the known ones (production keys only:
// Persona does not list templates in Sandbox).
func (s *Service) ImportTemplates(ctx context.Context, a model.Actor) (int, error) {
	ctx, cancel := staffCtx(ctx)
	defer cancel()
	c, err := s.Client()
	if err != nil {
		return 0, err
	}
	ts, err := c.ListInquiryTemplates(ctx)
	if err != nil {
		return 0, err
	}
	known, err := s.db.Templates(ctx)
	if err != nil {
		return 0, err
	}
	have := map[string]bool{}
	for _, t := range known {
		have[t.ID] = true
	}
	n := 0
	for _, t := range ts {
		if have[t.ID] {
			continue
		}
		if err := s.db.SaveTemplate(ctx, db.Template{ID: t.ID, Name: t.Name, IsDefault: len(known) == 0 && n == 0}, audit(a, "template.import", t.ID, t.Name, nil)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// RegisterTemplates makes sure the given templates are known, keeping admins' names and
// defaults (used in dev mode for the sandbox's templates).
func (s *Service) RegisterTemplates(ctx context.Context, ts []db.Template) error {
	known, err := s.db.Templates(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, t := range known {
		have[t.ID] = true
	}
	for i, t := range ts {
		if have[t.ID] {
			continue
		}
		t.IsDefault = len(known) == 0 && i == 0
		if err := s.db.SaveTemplate(ctx, t, db.AuditEntry{}); err != nil {
			return err
		}
	}
	return nil
}
