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

// MaxNote bounds a note: a remark for colleagues, not a document store.
const MaxNote = 4000

// checkNote trims a note and says in words what is wrong with it.
func checkNote(body string) (string, error) {
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch {
	case body == "":
		return "", refuse("Write the note first: it is empty.")
	case utf8.RuneCountInString(body) > MaxNote:
		return "", refuse(fmt.Sprintf("A note may be at most %d characters (this one has %d). Split it, or shorten it.", MaxNote, utf8.RuneCountInString(body)))
	}
	return body, nil
}

// AddNote adds a note to the inquiry's thread; the activity records it.
func (s *Service) AddNote(ctx context.Context, a model.Actor, inquiryID, body string) (int64, error) {
	body, err := checkNote(body)
	if err != nil {
		return 0, err
	}
	if _, err := s.db.GetInquiry(ctx, inquiryID); err != nil {
		return 0, err
	}
	id, err := s.db.AddNote(ctx, db.Note{InquiryID: inquiryID, AuthorID: a.ID, Author: a.Name, Body: body, CreatedAt: s.now()},
		db.AuditBy(a, "note.add", inquiryID, excerpt(body)))
	if err != nil {
		return 0, err
	}
	s.changed(inquiryID)
	return id, nil
}

// MayChangeNote reports whether a staff member may edit or delete the note: its author, or
// an admin.
func MayChangeNote(a model.Actor, n db.Note) bool {
	return a.Role == model.Admin || (a.ID != 0 && a.ID == n.AuthorID)
}

// EditNote replaces a note's text (the author's or an admin's).
func (s *Service) EditNote(ctx context.Context, a model.Actor, noteID int64, body string) (db.Note, error) {
	n, err := s.ownNote(ctx, a, noteID)
	if err != nil {
		return n, err
	}
	body, err = checkNote(body)
	if err != nil {
		return n, err
	}
	if body == n.Body {
		return n, nil
	}
	detail := fmt.Sprintf("note %d by %s: %s", n.ID, n.Author, excerpt(body))
	if err := s.db.EditNote(ctx, n.ID, body, s.now(), db.AuditBy(a, "note.edit", n.InquiryID, detail)); err != nil {
		return n, err
	}
	s.changed(n.InquiryID)
	n.Body = body
	return n, nil
}

// DeleteNote removes a note (the author's or an admin's); the audit keeps what it said.
func (s *Service) DeleteNote(ctx context.Context, a model.Actor, noteID int64) (db.Note, error) {
	n, err := s.ownNote(ctx, a, noteID)
	if err != nil {
		return n, err
	}
	detail := fmt.Sprintf("note %d by %s: %s", n.ID, n.Author, excerpt(n.Body))
	if err := s.db.DeleteNote(ctx, n.ID, db.AuditBy(a, "note.delete", n.InquiryID, detail)); err != nil {
		return n, err
	}
	s.changed(n.InquiryID)
	return n, nil
}

func (s *Service) ownNote(ctx context.Context, a model.Actor, noteID int64) (db.Note, error) {
	n, err := s.db.GetNote(ctx, noteID)
	if errors.Is(err, db.ErrNotFound) {
		return n, refuse("This note no longer exists: someone deleted it.")
	}
	if err != nil {
		return n, err
	}
	if !MayChangeNote(a, n) {
		return n, refuse("Only " + n.Author + ", who wrote this note, or an admin may change it.")
	}
	return n, nil
}

// excerpt keeps an audit entry's detail short.
func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= 200 {
		return s
	}
	return string([]rune(s)[:200]) + "…"
}
