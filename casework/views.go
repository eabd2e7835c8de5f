package casework

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

// MaxViewName bounds a saved view's name: it is shown as a link beside the quick filters.
const MaxViewName = 40

// SaveView keeps the list's query (filters, search, sort) under a name, for its owner or shared
// with the team; saving again under the same name replaces it.
func (s *Service) SaveView(ctx context.Context, a model.Actor, name, query string, shared bool) (int64, error) {
	name = strings.Join(strings.Fields(name), " ")
	switch {
	case name == "":
		return 0, refuse("Name the view, for example \"My open cases\".")
	case utf8.RuneCountInString(name) > MaxViewName:
		return 0, refuse(fmt.Sprintf("A view's name may be at most %d characters.", MaxViewName))
	case len(query) > 2000:
		return 0, refuse("These filters are too long to keep as a view.")
	}
	detail := fmt.Sprintf("%q: %s", name, query)
	if shared {
		detail += " (shared with the team)"
	}
	return s.db.SaveView(ctx, db.SavedView{OwnerID: a.ID, Name: name, Query: query, Shared: shared, CreatedAt: s.now()},
		db.AuditBy(a, "view.save", name, detail))
}

// DeleteView removes a saved view (its owner's or an admin's).
func (s *Service) DeleteView(ctx context.Context, a model.Actor, id int64) (db.SavedView, error) {
	v, err := s.db.GetSavedView(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return v, refuse("This view no longer exists.")
	}
	if err != nil {
		return v, err
	}
	if v.OwnerID != a.ID && a.Role != model.Admin {
		return v, refuse("Only " + v.OwnerName + ", who saved this view, or an admin may remove it.")
	}
	return v, s.db.DeleteView(ctx, id, db.AuditBy(a, "view.delete", v.Name, fmt.Sprintf("%q: %s", v.Name, v.Query)))
}
