// Comparing what a government ID says with what staff entered, for the verification cards.

package inquiry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/linkdesk/linkdesk/db"
)

// Identity is what staff entered about the person: the name they typed (kept when Persona's
// becomes the ID's) and the birthdate of the New inquiry form.
type Identity struct{ Name, Birthdate string }

// EnteredIdentity reads what was entered for the inquiry; empty when it is not cached.
func (s *Service) EnteredIdentity(ctx context.Context, inquiryID string) (Identity, error) {
	var in Identity
	q, err := s.db.GetInquiry(ctx, inquiryID)
	if errors.Is(err, db.ErrNotFound) {
		return in, nil // nothing known to compare with
	}
	if err != nil {
		return in, err
	}
	fields, err := s.EnteredFields(ctx, inquiryID)
	if err != nil {
		return in, err
	}
	in.Name, in.Birthdate = q.Name, fields["birthdate"]
	if in.Name == "" {
		in.Name = strings.Join(strings.Fields(fields["name-first"]+" "+fields["name-middle"]+" "+fields["name-last"]), " ")
	}
	return in, nil
}

// Match is how one line of the ID compares with what was entered.
type Match int

const (
	NotCompared Match = iota // one side is empty
	Same
	Differs
)

// IDLine is one line of the comparison.
type IDLine struct {
	Label, Entered, OnID string
	Match                Match
}

// CompareID lines up what the ID says with what was entered. Names compare without case and
// spacing, and a middle name on the ID that nobody entered is no difference. Only the end of
// the document number is shown; staff never enter it.
func CompareID(in Identity, f IDFacts) []IDLine {
	match := func(entered, onID string, same bool) Match {
		switch {
		case entered == "" || onID == "":
			return NotCompared
		case same:
			return Same
		}
		return Differs
	}
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }
	name := norm(in.Name)
	sameName := name == norm(f.Name()) || name == norm(f.NameFirst+" "+f.NameLast)
	out := []IDLine{
		{Label: "Name", Entered: in.Name, OnID: f.Name(), Match: match(in.Name, f.Name(), sameName)},
		{Label: "Birthdate", Entered: in.Birthdate, OnID: f.Birthdate, Match: match(in.Birthdate, f.Birthdate, in.Birthdate == f.Birthdate)},
	}
	if f.NumberEnding != "" {
		out = append(out, IDLine{Label: "Document number", OnID: "ending " + f.NumberEnding})
	}
	return out
}

// EnteredFields returns the fields staff entered when they created the inquiry in Linkdesk
// (Persona's copy changes as the person goes through the flow, and names become the ID's), or
// nil for an inquiry created elsewhere.
func (s *Service) EnteredFields(ctx context.Context, inquiryID string) (map[string]string, error) {
	raw, err := s.db.InquiryRequestParams(ctx, inquiryID)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p struct{ F [][2]string } // see createParams
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, fmt.Errorf("read the create request of %s: %w", inquiryID, err)
	}
	out := make(map[string]string, len(p.F))
	for _, f := range p.F {
		out[f[0]] = f[1]
	}
	return out, nil
}
