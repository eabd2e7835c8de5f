package bulk

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/csvsafe"
	"github.com/linkdesk/linkdesk/model"
)

// Classes of the dry run.
const (
	Ready     = "ready"
	Invalid   = "invalid"   // a field breaks the New inquiry form's rules
	Duplicate = "duplicate" // the same reference ID as an earlier row of the file
	Open      = "open"      // an inquiry for this reference ID is open: its link is reused or resumed
	Verified  = "verified"  // already verified or in review: skipped unless "create anyway"
	Differs   = "differs"   // open, but what the row typed differs from it: skipped unless chosen otherwise
)

// Choices for a row that differs from its open inquiry. The default is ChoiceSkip: one person's
// link is never sent on a guess.
const (
	ChoiceSkip   = "skip"
	ChoiceOnFile = "on-file" // hand out the open inquiry's link, to the address it has on file
	ChoiceNew    = "new"     // create a new inquiry with what the row typed
)

// ChoiceWords says each choice, for the page and the results.
var ChoiceWords = map[string]string{
	ChoiceSkip:   "Skip this row",
	ChoiceOnFile: "Send the open inquiry's link to the address on file",
	ChoiceNew:    "Create a new inquiry from this row",
}

// classWords says each class in the summary.
var classWords = map[string]string{
	Ready: "ready", Invalid: "invalid", Duplicate: "duplicate in the file", Open: "already open", Verified: "already verified",
	Differs: "differing from the open inquiry",
}

// ClassWords says a class in words, as the check's table and downloads show it.
func ClassWords(c string) string { return classWords[c] }

var classOrder = []string{Ready, Invalid, Duplicate, Open, Differs, Verified}

// Options are the batch's choices.
type Options struct {
	TemplateID   string
	Email        bool // email the links
	CreateAnyway bool // create although the person is already verified or in review
	// Choices are what to do with each row that differs from its open inquiry, by line;
	// ChoiceAll, when set, applies to every such row. A row with neither is skipped.
	Choices   map[int]string
	ChoiceAll string
	// FormKey is the key of the checked form that starts the job: Start with the key of a job
	// started before returns that job instead of making another. "": no such guard (the CLI).
	FormKey string
}

// Choice is what to do with the differing row on line.
func (o Options) Choice(line int) string {
	c := o.ChoiceAll
	if c == "" {
		c = o.Choices[line]
	}
	if ChoiceWords[c] == "" {
		return ChoiceSkip
	}
	return c
}

// Row is one row of the file as checked.
type Row struct {
	Line     int
	Input    inquiry.CreateInput // template, key and confirm are set by the job
	Class    string
	Problem  string // for every class but ready: what is wrong or what will happen, in words
	Existing string // the open or verified inquiry the row is about
	// Diffs is what the row typed that its open inquiry holds otherwise (Differs).
	Diffs []inquiry.Difference
}

// Checked is the dry run's verdict on a file.
type Checked struct {
	Rows   []Row
	Counts map[string]int
}

// Summary says the counts in words: "480 ready, 12 invalid, 8 already open".
func (c *Checked) Summary() string {
	var parts []string
	for _, k := range classOrder {
		if n := c.Counts[k]; n > 0 || k == Ready {
			parts = append(parts, fmt.Sprintf("%d %s", n, classWords[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// Acting counts the rows that would create or send something with the choices o: ready, open,
// verified with "create anyway", and differing rows not left to skip. A job of none would only
// fail and skip rows.
func (c *Checked) Acting(o Options) int {
	n := 0
	for _, r := range c.Rows {
		switch {
		case r.Class == Ready, r.Class == Open, r.Class == Verified && o.CreateAnyway, r.Class == Differs && o.Choice(r.Line) != ChoiceSkip:
			n++
		}
	}
	return n
}

// Problems are the rows that will not simply be created.
func (c *Checked) Problems() []Row {
	var out []Row
	for _, r := range c.Rows {
		if r.Class != Ready {
			out = append(out, r)
		}
	}
	return out
}

// ProblemColumns is the header of the problem rows' CSV.
var ProblemColumns = []string{"line", "reference_id", "check", "reason"}

// WriteProblems writes the rows with problems (invalid, duplicate, already open, already
// verified) with the reason in words as CSV, each cell from the file kept from running as a
// formula.
func (c *Checked) WriteProblems(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ProblemColumns); err != nil {
		return err
	}
	for _, r := range c.Problems() {
		if err := cw.Write(csvsafe.Row(strconv.Itoa(r.Line), r.Input.ReferenceID, classWords[r.Class], r.Problem)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// fieldLabel names a form field for a problem message.
func fieldLabel(k string) string {
	if l := ColumnLabels[k]; l != "" {
		return l
	}
	return k
}

// InputError is a refusal of what was chosen or uploaded, in words for the person; any other
// error from Check is the console's own.
type InputError string

func (e InputError) Error() string { return string(e) }

// Check classifies every row with the New inquiry form's rules and the duplicate guard's, and
// sends nothing: open and verified inquiries are found in the cache (the job's create asks
// Persona again, so one the cache does not know is still caught then).
func (e *Engine) Check(ctx context.Context, f *File, o Options) (*Checked, error) {
	if o.TemplateID == "" {
		return nil, InputError("choose a template")
	}
	if _, err := e.db.GetTemplate(ctx, o.TemplateID); errors.Is(err, db.ErrNotFound) {
		return nil, InputError(fmt.Sprintf("the template %s is not known here: choose one from the list", o.TemplateID))
	} else if err != nil {
		return nil, err
	}
	requireRef := e.inq.Settings().RequireReference
	out := &Checked{Counts: map[string]int{}}
	firstLine := map[string]int{}
	for _, rec := range f.Rows {
		r := Row{Line: rec.Line, Class: Ready}
		in := inquiry.CreateInput{ReferenceID: rec.Values[ColReference], Note: rec.Values[ColNote], Fields: map[string]string{}}
		for _, k := range inquiry.FieldKeys {
			in.Fields[k] = rec.Values[k]
		}
		errs := inquiry.Validate(&in, rec.Values[ColTags], requireRef)
		r.Input = in
		switch {
		case len(errs) > 0:
			keys := make([]string, 0, len(errs))
			for k := range errs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var msgs []string
			for _, k := range keys {
				msgs = append(msgs, fieldLabel(k)+": "+errs[k])
			}
			r.Class, r.Problem = Invalid, strings.Join(msgs, " ")
		case in.ReferenceID != "" && firstLine[in.ReferenceID] != 0:
			r.Class, r.Problem = Duplicate, fmt.Sprintf("Same reference ID as line %d: only that row is used.", firstLine[in.ReferenceID])
		case in.ReferenceID != "":
			cached, err := e.db.InquiriesByReference(ctx, in.ReferenceID)
			if err != nil {
				return nil, err
			}
			if len(cached) > 0 {
				q := cached[0]
				open := q.Status == model.Created || q.Status == model.Pending
				diffs := inquiry.Differences(&q, in.Fields)
				switch {
				case open && len(diffs) > 0:
					r.Class, r.Existing, r.Diffs = Differs, q.ID, diffs
					r.Problem = fmt.Sprintf("Differs from the open inquiry %s: %s. %s.", q.ID, inquiry.DifferencesText(diffs), differsOutcome(o.Choice(rec.Line)))
				case q.Status == model.Created:
					r.Class, r.Existing, r.Problem = Open, q.ID, fmt.Sprintf("Already open (%s, not started yet): its link is used.", q.ID)
				case q.Status == model.Pending:
					r.Class, r.Existing, r.Problem = Open, q.ID, fmt.Sprintf("Already open (%s, started but not finished): it is resumed.", q.ID)
				case q.Status == model.Completed, q.Status == model.Approved, q.Status == model.NeedsReview:
					r.Class, r.Existing = Verified, q.ID
					if o.CreateAnyway {
						r.Problem = fmt.Sprintf("Already %s (%s): a new inquiry is created, as you asked.", q.Status.Phrase(), q.ID)
					} else {
						r.Problem = fmt.Sprintf("Already %s (%s): skipped; tick \"Create anyway\" to make a new one.", q.Status.Phrase(), q.ID)
					}
				}
			}
		}
		if in.ReferenceID != "" && firstLine[in.ReferenceID] == 0 && r.Class != Invalid {
			firstLine[in.ReferenceID] = rec.Line
		}
		out.Counts[r.Class]++
		out.Rows = append(out.Rows, r)
	}
	return out, nil
}

// differsOutcome says what happens to a differing row with choice c.
func differsOutcome(c string) string {
	switch c {
	case ChoiceOnFile:
		return "Its link is sent to the address on file, as you chose"
	case ChoiceNew:
		return "A new inquiry is created from this row, as you chose"
	}
	return "Skipped unless you choose otherwise: nothing is sent"
}

// rowInput is how a row's fields are stored with the job.
type rowInput struct {
	Ref    string            `json:"ref,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`
	Note   string            `json:"note,omitempty"`
	Tags   []string          `json:"tags,omitempty"`
	Choice string            `json:"choice,omitempty"` // for a row that differs from its open inquiry
}

func encodeInput(in inquiry.CreateInput, choice string) string {
	fields := map[string]string{}
	for k, v := range in.Fields {
		if v != "" {
			fields[k] = v
		}
	}
	b, _ := json.Marshal(rowInput{Ref: in.ReferenceID, Fields: fields, Note: in.Note, Tags: in.Tags, Choice: choice})
	return string(b)
}

func decodeInput(s string) (inquiry.CreateInput, string, error) {
	var ri rowInput
	if err := json.Unmarshal([]byte(s), &ri); err != nil {
		return inquiry.CreateInput{}, "", fmt.Errorf("bulk: stored row: %w", err)
	}
	if ri.Fields == nil {
		ri.Fields = map[string]string{}
	}
	return inquiry.CreateInput{ReferenceID: ri.Ref, Fields: ri.Fields, Note: ri.Note, Tags: ri.Tags}, ri.Choice, nil
}

// rowKey is the row's idempotency key; its email's request key derives from it.
func rowKey() string { return "bulk-" + inquiry.NewKey() }
