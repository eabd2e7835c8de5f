package staff

import (
	"context"
	"regexp"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
)

var reminderRe = regexp.MustCompile(`^\s*\d{1,2}(\s*,\s*\d{1,2})*\s*$`)

// SaveTemplate checks t and stores it (made the default, when it says so) with its audit entry.
// Problems with the values come back in words by field (id, name, reminder_days), and nothing
// is stored then.
func (s *Service) SaveTemplate(ctx context.Context, by inquiry.Actor, t db.Template) (map[string]string, error) {
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
	return nil, s.db.SaveTemplate(ctx, t, audit(by, "template.save", t.ID, t.Name))
}

// DeleteTemplate forgets a template (inquiries made from it keep its id) with its audit entry.
func (s *Service) DeleteTemplate(ctx context.Context, by inquiry.Actor, id string) error {
	return s.db.DeleteTemplate(ctx, id, audit(by, "template.remove", id, ""))
}
