package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/linkdesk/linkdesk/casework"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/views"
)

// caseView fills the detail page's team work: assignment, notes, the expiry warning.
func (s *Server) caseView(r *http.Request, q *db.Inquiry, c *views.CaseView) error {
	ctx := r.Context()
	me := actor(r)
	*c = views.CaseView{InquiryID: q.ID, MeID: me.ID, CanAssign: casework.MayWork(me.Role), CanNote: roleAccess(me.Role) >= Agent}
	a, err := s.db.AssignmentOf(ctx, q.ID)
	switch {
	case err == nil:
		c.Assignee, c.AssigneeID, c.AssignedToMe = a.UserName, a.UserID, a.UserID == me.ID
		if c.AssignedToMe {
			c.AssignedToMeNote = " (you)"
		}
	case !errors.Is(err, db.ErrNotFound):
		return err
	}
	if c.CanAssign {
		if c.Staff, err = s.workers(r); err != nil {
			return err
		}
	}
	notes, err := s.db.Notes(ctx, q.ID)
	if err != nil {
		return err
	}
	for i, n := range notes {
		c.Notes = append(c.Notes, noteView(i+1, n, me))
	}
	now := time.Now()
	if q.Status.PersonHasWork() && !q.ExpiresAt.IsZero() && q.ExpiresAt.After(now) && q.ExpiresAt.Before(now.Add(s.expiringWindow())) {
		c.ExpiryWarning = "The link expires soon: " + views.Until(q.ExpiresAt, now) + " (" + views.When(q.ExpiresAt) + ")."
		if roleAccess(me.Role) >= Agent && inquiry.ValidRecipient(q.Email) == nil {
			c.CanSendFresh, c.FreshTo, c.FreshKey = true, q.Email, inquiry.NewKey()
		}
	}
	return nil
}

// workers are the staff an inquiry may be given to: agents and admins not disabled.
func (s *Server) workers(r *http.Request) ([]views.Option, error) {
	us, err := s.db.ListUsers(r.Context())
	if err != nil {
		return nil, err
	}
	var out []views.Option
	for _, u := range us {
		if !u.Disabled && casework.MayWork(u.Role) {
			out = append(out, views.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name})
		}
	}
	return out, nil
}

func noteView(n int, note db.Note, me model.Actor) views.NoteView {
	return views.NoteView{ID: note.ID, N: n, Author: note.Author, At: note.CreatedAt, Edited: !note.EditedAt.IsZero(),
		Parts: views.LinkParts(note.Body), CanChange: casework.MayChangeNote(me, note)}
}

func (s *Server) addNote(w http.ResponseWriter, r *http.Request) {
	q := s.loadInquiry(w, r)
	if q == nil {
		return
	}
	body := r.PostFormValue("body")
	if _, err := s.cases.AddNote(r.Context(), actor(r), q.ID, body); err != nil {
		if p := casework.ProblemOf(err); p != nil {
			s.renderCase(w, r, http.StatusUnprocessableEntity, q, func(c *views.CaseView) { c.NoteText, c.NoteError = body, p.Words })
			return
		}
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, "Note added.")
	redirect(w, r, "/inquiries/"+q.ID+"#notes-h")
}

// renderCase shows the detail page with a change to its team-work part (a refused form).
func (s *Server) renderCase(w http.ResponseWriter, r *http.Request, status int, q *db.Inquiry, edit func(*views.CaseView)) {
	v, err := s.detailView(r, q, "")
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	edit(&v.Case)
	p := s.page(r, views.PersonTitle(v.Inquiry), "inquiries")
	s.render(w, r, status, views.InquiryDetailPage(p, v), nil)
}

// loadNote finds the note of the path and its number in its thread; it writes the error page
// itself and returns ok false then.
func (s *Server) loadNote(w http.ResponseWriter, r *http.Request) (views.NoteView, db.Note, bool) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	n, err := s.db.GetNote(r.Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, "Note not found", "This note does not exist (any more): someone may have deleted it.")
		return views.NoteView{}, n, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return views.NoteView{}, n, false
	}
	all, err := s.db.Notes(r.Context(), n.InquiryID)
	if err != nil {
		s.serverError(w, r, err)
		return views.NoteView{}, n, false
	}
	num := 0
	for i, o := range all {
		if o.ID == n.ID {
			num = i + 1
		}
	}
	me := actor(r)
	v := noteView(num, n, me)
	if !v.CanChange {
		s.errorPage(w, r, http.StatusForbidden, "Not your note", "Only "+n.Author+", who wrote this note, or an admin may change it.")
		return v, n, false
	}
	return v, n, true
}

func (s *Server) noteEditForm(w http.ResponseWriter, r *http.Request) {
	v, n, ok := s.loadNote(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, views.NoteEditPage(s.page(r, "Edit note", "inquiries"), n.InquiryID, v, n.Body, ""), nil)
}

func (s *Server) editNote(w http.ResponseWriter, r *http.Request) {
	v, n, ok := s.loadNote(w, r)
	if !ok {
		return
	}
	body := r.PostFormValue("body")
	if _, err := s.cases.EditNote(r.Context(), actor(r), n.ID, body); err != nil {
		if p := casework.ProblemOf(err); p != nil {
			s.render(w, r, http.StatusUnprocessableEntity, views.NoteEditPage(s.page(r, "Edit note", "inquiries"), n.InquiryID, v, body, p.Words), nil)
			return
		}
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, "Note saved.")
	redirect(w, r, "/inquiries/"+n.InquiryID+"#notes-h")
}

func (s *Server) deleteNote(w http.ResponseWriter, r *http.Request) {
	_, n, ok := s.loadNote(w, r)
	if !ok {
		return
	}
	if _, err := s.cases.DeleteNote(r.Context(), actor(r), n.ID); err != nil {
		if p := casework.ProblemOf(err); p != nil {
			s.errorPage(w, r, http.StatusConflict, "Note not deleted", p.Words)
			return
		}
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, "Note deleted.")
	redirect(w, r, "/inquiries/"+n.InquiryID+"#notes-h")
}
