package inquiry

import (
	"errors"
	"net/http"
	"strings"

	"github.com/linkdesk/linkdesk/persona"
)

// Problem is a failure at Persona (or in reaching it) as the console tells staff about it, so
// that callers act on it without knowing Persona's error types.
type Problem struct {
	Words string // what happened and what to do next, for staff
	// Fields holds Persona's complaints by the attribute its pointer names (e.g. "name-first",
	// "inquiry-template-id"), so a form can show each next to its field.
	Fields    map[string]string
	Status    int  // Persona's HTTP status; 0 when it did not answer
	Retryable bool // the same request may succeed later; false when Persona refused it
	Err       error
}

func (p *Problem) Error() string { return p.Err.Error() }
func (p *Problem) Unwrap() error { return p.Err }

// Rejected reports that Persona refused because of the record's state or the values sent
// (409, 422, 400), as opposed to failing.
func (p *Problem) Rejected() bool {
	return p.Status == http.StatusConflict || p.Status == http.StatusUnprocessableEntity || p.Status == http.StatusBadRequest
}

// ProblemOf returns err as a Problem when it came from Persona (see IsPersonaError), else nil.
func ProblemOf(err error) *Problem {
	if errors.Is(err, ErrReadBudget) {
		return ErrReadBudget
	}
	if err == nil || !IsPersonaError(err) {
		return nil
	}
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	p = &Problem{Words: persona.Explain(err), Retryable: !persona.IsRefused(err), Err: err}
	var apiErr *persona.APIError
	if errors.As(err, &apiErr) {
		p.Status = apiErr.StatusCode
		for _, item := range apiErr.Errors {
			key := item.Pointer[strings.LastIndexByte(item.Pointer, '/')+1:]
			if key == "" {
				continue
			}
			msg := item.Details
			if msg == "" {
				msg = item.Title
			}
			if p.Fields == nil {
				p.Fields = map[string]string{}
			}
			p.Fields[key] = msg // a later complaint about the same field wins, as Persona lists them
		}
	}
	if persona.IsTagLimit(err) {
		// Shown next to the Tags field, in words, whatever Persona's own text.
		if p.Fields == nil {
			p.Fields = map[string]string{}
		}
		p.Fields["tags"] = persona.TagLimitWords
	}
	return p
}
