// Package casework holds the rules of team work on inquiries: notes, assignment, and actions
// on many rows at once. Like inquiry, it knows nothing of HTTP or HTML; every change is written
// with its audit entry in one transaction and published to the live hub.
package casework

import (
	"errors"
	"log/slog"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/keylock"
	"github.com/linkdesk/linkdesk/model"
)

// Publisher is told the id of every inquiry whose case changed (the live hub).
type Publisher interface {
	Publish(inquiryID string)
}

// Service carries out the case-work rules.
type Service struct {
	db      *db.DB
	inq     *inquiry.Service
	changes Publisher
	log     *slog.Logger
	now     func() time.Time
	runs    keylock.Map // one run of an action on many rows per confirmation key
	// BaseURL is the console's address, for links in notices to staff.
	BaseURL string
	// Reserve is how many requests of the Persona client's burst actions on many rows leave
	// for staff working one inquiry at a time, as bulk send does. Zero: a third of the burst.
	Reserve int
}

// New builds the service; changes may be nil.
func New(d *db.DB, inq *inquiry.Service, changes Publisher, log *slog.Logger) *Service {
	return &Service{db: d, inq: inq, changes: changes, log: log, now: time.Now}
}

func (s *Service) changed(id string) {
	if s.changes != nil {
		s.changes.Publish(id)
	}
}

// Problem is a refusal in words, shown to the person as it is.
type Problem struct{ Words string }

func (p *Problem) Error() string { return p.Words }

// ProblemOf returns the refusal in err, or nil.
func ProblemOf(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return nil
}

func refuse(words string) error { return &Problem{Words: words} }

// MayWork reports whether a role may take and be given inquiries, and act on them.
func MayWork(r model.Role) bool { return r.Level() >= model.Agent.Level() }

// MayExpire reports whether a role may expire inquiries from the list: reviewers and admins.
// It is the one check of that rule; "reviewer" is the role being added beside these.
func MayExpire(r model.Role) bool { return r == model.Admin || r == "reviewer" }
