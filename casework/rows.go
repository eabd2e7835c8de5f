package casework

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
)

// Actions on many rows.
const (
	ActFreshLink = "fresh-link"
	ActExpire    = "expire"
	ActAssign    = "assign"
	ActTag       = "tag"
)

// MaxRows bounds one action on many rows: a page of the list.
const MaxRows = 200

// RowPlan is what an action would do to one selected inquiry.
type RowPlan struct {
	ID, Label string
	OK        bool
	Why       string // why it cannot, in words ("approved", "without email")
}

// Plan says, before anything is done, which of the selected inquiries the action can be done
// to and why not for the others. Nothing is written.
func (s *Service) Plan(ctx context.Context, a model.Actor, action string, ids []string, tag string) ([]RowPlan, error) {
	if err := s.mayAct(a, action, ids, tag); err != nil {
		return nil, err
	}
	out := make([]RowPlan, 0, len(ids))
	for _, id := range ids {
		q, err := s.db.GetInquiry(ctx, id)
		if errors.Is(err, db.ErrNotFound) {
			out = append(out, RowPlan{ID: id, Label: id, Why: "not in the cache"})
			continue
		}
		if err != nil {
			return nil, err
		}
		p := RowPlan{ID: id, Label: cmp.Or(q.ReferenceID, q.ID), OK: true}
		p.OK, p.Why = canDo(action, q, tag)
		out = append(out, p)
	}
	return out, nil
}

func canDo(action string, q *db.Inquiry, tag string) (bool, string) {
	switch action {
	case ActTag:
		if slices.Contains(q.Tags, strings.TrimSpace(tag)) {
			return false, "already tagged"
		}
	case ActFreshLink:
		if !q.Status.Linkable() {
			return false, statusWords(q.Status)
		}
		if inquiry.ValidRecipient(q.Email) != nil {
			return false, "without email"
		}
	case ActExpire:
		if !q.Status.PersonHasWork() {
			return false, statusWords(q.Status)
		}
	}
	return true, ""
}

func statusWords(st model.Status) string { return strings.ReplaceAll(string(st), "_", " ") }

func (s *Service) mayAct(a model.Actor, action string, ids []string, tag string) error {
	switch {
	case len(ids) == 0:
		return refuse("Select at least one inquiry first: tick the boxes at the start of the rows.")
	case len(ids) > MaxRows:
		return refuse(fmt.Sprintf("Select at most %d inquiries at once (%d selected).", MaxRows, len(ids)))
	}
	switch action {
	case ActFreshLink, ActAssign:
		if !MayWork(a.Role) {
			return refuse("Only agents and admins may do this.")
		}
	case ActTag:
		if !MayWork(a.Role) {
			return refuse("Only agents and admins may do this.")
		}
		if !inquiry.ValidTag(tag) {
			return refuse("Type the tag to add first. " + inquiry.ErrBadTag.Error() + ".")
		}
	case ActExpire:
		if !MayExpire(a.Role) {
			return refuse("Only reviewers and admins may expire inquiries.")
		}
	default:
		return refuse("Choose one of the actions above the list.")
	}
	return nil
}

// Summary words a plan: "12 selected: 9 will get a fresh link, 3 cannot: 2 approved, 1
// without email".
func Summary(action string, plan []RowPlan) string {
	ok := 0
	why := map[string]int{}
	for _, p := range plan {
		if p.OK {
			ok++
		} else {
			why[p.Why]++
		}
	}
	will := map[string]string{ActFreshLink: "will get a fresh link", ActExpire: "will be expired", ActAssign: "will be assigned",
		ActTag: "will get the tag"}[action]
	out := fmt.Sprintf("%d selected: %d %s", len(plan), ok, will)
	if n := len(plan) - ok; n > 0 {
		reasons := make([]string, 0, len(why))
		for w := range why {
			reasons = append(reasons, w)
		}
		slices.SortFunc(reasons, func(a, b string) int { return cmp.Or(why[b]-why[a], strings.Compare(a, b)) })
		for i, w := range reasons {
			reasons[i] = fmt.Sprintf("%d %s", why[w], w)
		}
		out += fmt.Sprintf(", %d cannot: %s", n, strings.Join(reasons, ", "))
	}
	return out
}

// RowOutcome is what an action did to one inquiry.
type RowOutcome struct {
	ID, Label string
	OK        bool
	Words     string
}

// Run does the action to each inquiry, checking each again (it may have changed since the
// summary). Sending fresh links goes through the outbox, one email per inquiry keyed by the
// confirmation's key, so a double click or a re-sent form queues nothing twice; each Persona
// call waits for headroom in the client's rate budget beyond the staff's reserve, as bulk
// send does. Every inquiry gets its own audit entry (the email's, the expiry's, the
// assignment's).
func (s *Service) Run(ctx context.Context, a model.Actor, action, key string, ids []string, assignTo int64, tag string) ([]RowOutcome, error) {
	if err := s.mayAct(a, action, ids, tag); err != nil {
		return nil, err
	}
	if strings.TrimSpace(key) == "" {
		return nil, refuse("This confirmation has no key: go back to the list and choose the action again.")
	}
	// One run per confirmation at a time: a second click waits for the first and then finds
	// each inquiry done (its email queued under the same key, expired, tagged, assigned).
	unlock := s.runs.Lock(key)
	defer unlock()
	out := make([]RowOutcome, 0, len(ids))
	for _, id := range ids {
		o := RowOutcome{ID: id, Label: id}
		q, err := s.db.GetInquiry(ctx, id)
		if err != nil {
			o.Words = "Not done: it is not in the cache."
			out = append(out, o)
			continue
		}
		o.Label = cmp.Or(q.ReferenceID, q.ID)
		if ok, why := canDo(action, q, tag); !ok {
			o.Words = "Not done: it is " + why + " now."
			if action == ActFreshLink && why == "without email" {
				o.Words = "Not done: it has no email address."
			}
			out = append(out, o)
			continue
		}
		switch action {
		case ActFreshLink:
			if err = s.headroom(ctx); err == nil {
				var e *db.OutboxEmail
				if e, err = s.inq.Send(ctx, a, id, q.Email, key+"."+id); err == nil {
					o.OK, o.Words = true, "Fresh link emailed to "+e.Recipient+"."
				}
			}
		case ActExpire:
			if err = s.headroom(ctx); err == nil {
				if _, err = s.inq.Decide(ctx, a, id, "expire", ""); err == nil {
					o.OK, o.Words = true, "Expired."
				}
			}
		case ActTag:
			if err = s.headroom(ctx); err == nil {
				if _, err = s.inq.AddTag(ctx, a, id, tag, key+"."+id); err == nil {
					o.OK, o.Words = true, "Tagged “"+strings.TrimSpace(tag)+"”."
				}
			}
		case ActAssign:
			var changed bool
			if changed, err = s.Assign(ctx, a, id, assignTo); err == nil {
				o.OK, o.Words = true, map[bool]string{true: "Assigned.", false: "Already so."}[changed]
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			o.Words = "Not done: " + problemWords(err)
		}
		out = append(out, o)
	}
	return out, nil
}

func problemWords(err error) string {
	if p := ProblemOf(err); p != nil {
		return p.Words
	}
	if p := inquiry.ProblemOf(err); p != nil {
		return p.Words
	}
	if errors.Is(err, inquiry.ErrNoLinkNeeded) || errors.Is(err, inquiry.ErrNotConfigured) || errors.Is(err, inquiry.ErrEmailWording) {
		return err.Error() + "."
	}
	return "something went wrong; try again in a moment."
}

// headroom waits until the Persona client's budget has room beyond the staff's reserve.
func (s *Service) headroom(ctx context.Context) error {
	c, err := s.inq.Client()
	if err != nil {
		return err
	}
	reserve := s.Reserve
	if reserve == 0 {
		reserve = c.Burst() / 3
	}
	return c.WaitHeadroom(ctx, reserve)
}
