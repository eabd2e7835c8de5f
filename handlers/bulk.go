package handlers

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/linkdesk/linkdesk/bulk"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/csvsafe"
	"github.com/linkdesk/linkdesk/views"
)

// maxUpload caps a bulk send's request: the file's own cap plus room for the form around it.
const maxUpload = bulk.MaxFileBytes + 1<<20

func (s *Server) bulkPage(w http.ResponseWriter, r *http.Request) {
	s.renderBulk(w, r, http.StatusOK, views.BulkPage{})
}

func (s *Server) renderBulk(w http.ResponseWriter, r *http.Request, status int, v views.BulkPage) {
	opts, def, err := s.templateOptions(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v.Templates = opts
	if v.TemplateID == "" {
		v.TemplateID = def
	}
	jobs, err := s.db.BulkJobs(r.Context(), 20)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, j := range jobs {
		v.Jobs = append(v.Jobs, views.BulkJobRow{ID: j.ID, Name: j.Name, State: j.State, Total: j.Total, Created: j.CreatedAt, By: j.CreatedByName})
	}
	p := s.page(r, "Bulk send", "bulk")
	s.takeFlash(w, r, &p)
	var frag templ.Component
	if v.Check != nil {
		frag = views.BulkCheckResult(*v.Check)
	}
	s.render(w, r, status, views.BulkSendPage(p, v), frag)
}

// upload is a bulk send's form: the file, checked, and the choices.
type upload struct {
	name    string
	opts    bulk.Options
	mapping map[string]string
	checked *bulk.Checked
	file    *bulk.File
}

// uploadError refuses an upload in words for the page.
type uploadError string

func (e uploadError) Error() string { return string(e) }

// readUpload parses and checks the uploaded file; an uploadError is in words for the page, any
// other error is the console's (the form itself was parsed by the middleware, within maxUpload).
func (s *Server) readUpload(r *http.Request) (*upload, views.BulkPage, error) {
	v := views.BulkPage{}
	if r.MultipartForm == nil {
		return nil, v, uploadError("choose a CSV file to upload")
	}
	u := &upload{mapping: map[string]string{}}
	u.opts = bulk.Options{TemplateID: r.PostFormValue("template_id"), Email: r.PostFormValue("email") == "1", CreateAnyway: r.PostFormValue("create_anyway") == "1"}
	v.TemplateID, v.Email, v.CreateAnyway = u.opts.TemplateID, u.opts.Email, u.opts.CreateAnyway
	u.opts.ChoiceAll, u.opts.Choices = r.PostFormValue("choice_all"), map[int]string{}
	for k, vals := range r.MultipartForm.Value {
		if h, ok := strings.CutPrefix(k, "map:"); ok && len(vals) > 0 {
			u.mapping[h] = vals[0]
		}
		if l, ok := strings.CutPrefix(k, "choice:"); ok && len(vals) > 0 {
			if line, err := strconv.Atoi(l); err == nil {
				u.opts.Choices[line] = vals[0]
			}
		}
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		return nil, v, uploadError("choose a CSV file to upload")
	}
	defer f.Close()
	u.name = filepath.Base(strings.ReplaceAll(fh.Filename, `\`, "/"))
	if u.file, err = bulk.Parse(f, u.mapping); err != nil {
		return nil, v, uploadError(fmt.Sprintf("%s: %v", u.name, err))
	}
	if u.checked, err = s.bulk.Check(r.Context(), u.file, u.opts); err != nil {
		if in, ok := errors.AsType[bulk.InputError](err); ok {
			return nil, v, uploadError(in)
		}
		return nil, v, err
	}
	return u, v, nil
}

func (s *Server) bulkCheck(w http.ResponseWriter, r *http.Request) {
	u, v, err := s.readUpload(r)
	if err != nil {
		s.refuseUpload(w, r, v, err)
		return
	}
	c := &views.BulkCheck{Summary: u.checked.Summary(), Ready: u.checked.Counts[bulk.Ready], Mapping: u.mapping,
		ChoiceAll: u.opts.ChoiceAll, Differs: u.checked.Counts[bulk.Differs], Key: inquiry.NewKey()}
	c.Acting = u.checked.Acting(u.opts)
	for _, k := range []string{bulk.ChoiceSkip, bulk.ChoiceOnFile, bulk.ChoiceNew} {
		c.Choices = append(c.Choices, views.Option{Value: k, Label: bulk.ChoiceWords[k]})
	}
	if c.Ready > 0 && s.bulk.CallsPerRow(r.Context()) > 1 {
		c.Calls = views.BulkTwoCallsNote
	}
	// Headers mapped already stay offered with their choice: Start posts this same form, so
	// the mapping must stay in it.
	unknown := make(map[string]bool, len(u.file.Unknown))
	for _, h := range u.file.Unknown {
		unknown[h] = true
	}
	for _, h := range u.file.Headers {
		if _, mapped := u.mapping[h]; mapped || unknown[h] {
			c.Unknown = append(c.Unknown, h)
		}
	}
	for _, k := range bulk.Columns {
		c.Columns = append(c.Columns, views.Option{Value: k, Label: bulk.ColumnLabels[k]})
	}
	for _, p := range u.checked.Problems() {
		bp := views.BulkProblem{Line: p.Line, Ref: p.Input.ReferenceID, Class: bulk.ClassWords(p.Class), Problem: p.Problem, Existing: p.Existing}
		if p.Class == bulk.Differs {
			bp.Differs, bp.Choice = inquiry.DifferencesText(p.Diffs), u.opts.Choices[p.Line]
		}
		c.Problems = append(c.Problems, bp)
	}
	if len(c.Problems) > 0 {
		// The dry run is stored nowhere, so the download travels in the link itself.
		b := bytes.NewBufferString(csvsafe.BOM)
		if err := u.checked.WriteProblems(b); err != nil {
			s.serverError(w, r, err)
			return
		}
		c.ProblemsURL = "data:text/csv;charset=utf-8;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
		c.ProblemsFile = strings.Map(safeFileRune, strings.TrimSuffix(u.name, filepath.Ext(u.name))+"-problems.csv")
	}
	v.Check = c
	s.renderBulk(w, r, http.StatusOK, v)
}

// refuseUpload shows an upload's refusal on the page (422), or the console's own error as one.
func (s *Server) refuseUpload(w http.ResponseWriter, r *http.Request, v views.BulkPage, err error) {
	ue, ok := errors.AsType[uploadError](err)
	if !ok {
		s.serverError(w, r, err)
		return
	}
	v.Check = &views.BulkCheck{Error: sentence(string(ue))}
	s.renderBulk(w, r, http.StatusUnprocessableEntity, v)
}

func (s *Server) bulkStart(w http.ResponseWriter, r *http.Request) {
	u, v, err := s.readUpload(r)
	switch {
	case err != nil:
	case u.checked.Acting(u.opts) == 0:
		err = uploadError("nothing was started: no row is ready to create or send. Fix the rows in the file and check it again")
	case r.PostFormValue("key") == "":
		err = uploadError("check the file again, then Start: this form is not one the check gave")
	}
	if err != nil {
		s.refuseUpload(w, r, v, err)
		return
	}
	// The check's key, stored with the job: the same form submitted twice starts one job.
	u.opts.FormKey = r.PostFormValue("key")
	id, err := s.bulk.Start(r.Context(), actor(r), u.name, u.opts, u.checked)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/bulk/%d", id))
}

// bulkSample is a CSV file to start from: every column the page reads, with two made-up people.
func (s *Server) bulkSample(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="linkdesk-bulk-sample.csv"`)
	io.WriteString(w, csvsafe.BOM+bulk.SampleCSV)
}

// bulkCancelForm asks before a job is cancelled: the rows not yet done are then never created
// or emailed.
func (s *Server) bulkCancelForm(w http.ResponseWriter, r *http.Request) {
	v, err := s.bulkJobView(r)
	if errors.Is(err, db.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if v.Finished {
		http.Redirect(w, r, fmt.Sprintf("/bulk/%d", v.ID), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, views.BulkCancelPage(s.page(r, "Cancel bulk send: "+v.Name, "bulk"), v), nil)
}

func (s *Server) bulkJobView(r *http.Request) (views.BulkJob, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return views.BulkJob{}, db.ErrNotFound
	}
	p, err := s.bulk.Progress(r.Context(), id)
	if err != nil {
		return views.BulkJob{}, err
	}
	v := views.BulkJob{ID: id, Name: p.Job.Name, State: p.Job.State, Total: p.Job.Total, Done: p.Done, Failed: p.Failed,
		Finished: p.Finished, CanChange: mayChangeJob(currentUser(r), &p.Job)}
	if p.Left > 0 {
		v.Left = p.Left.Round(time.Second).String()
	}
	var parts []string
	for _, st := range []string{bulk.Created, bulk.Reused, bulk.Resumed, bulk.Skipped, bulk.Failed, bulk.Cancelled} {
		if n := p.Counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	v.Summary = strings.Join(parts, ", ")
	if v.Finished {
		err = s.db.BulkRows(r.Context(), id, func(row db.BulkRow) error {
			v.Rows = append(v.Rows, views.BulkResultRow{Line: row.Line, Ref: row.ReferenceID, Outcome: row.State, Detail: row.Detail, InquiryID: row.InquiryID, Link: row.Link})
			return nil
		})
	}
	return v, err
}

func (s *Server) bulkJob(w http.ResponseWriter, r *http.Request) {
	v, err := s.bulkJobView(r)
	if errors.Is(err, db.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.BulkJobPage(s.page(r, "Bulk send: "+v.Name, "bulk"), v), views.BulkJobStatus(v))
}

func (s *Server) bulkAction(w http.ResponseWriter, r *http.Request) {
	j, ok := byPathID(s, w, r, s.db.GetBulkJob)
	if !ok {
		return
	}
	if !mayChangeJob(currentUser(r), j) {
		s.errorPage(w, r, http.StatusForbidden, "Not your bulk send", "Only "+j.CreatedByName+", who started this bulk send, a reviewer or an admin can pause, resume or cancel it. Ask one of them.")
		return
	}
	a, id := actor(r), j.ID
	var err error
	switch r.PathValue("action") {
	case "pause":
		_, err = s.bulk.Pause(r.Context(), a, id)
	case "resume":
		_, err = s.bulk.Resume(r.Context(), a, id)
	case "cancel":
		_, err = s.bulk.Cancel(r.Context(), a, id)
	default:
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if isFragment(r) {
		s.bulkJob(w, r)
		return
	}
	redirect(w, r, fmt.Sprintf("/bulk/%d", id))
}

// mayChangeJob is the one rule for who may pause, resume or cancel a bulk send: the member of
// staff who started it, and reviewers and admins (who look after everyone's work).
func mayChangeJob(u *db.User, j *db.BulkJob) bool {
	return u != nil && (roleAccess(u.Role) >= Reviewer || (roleAccess(u.Role) >= Agent && u.ID == j.CreatedBy))
}

func (s *Server) bulkResults(w http.ResponseWriter, r *http.Request) {
	j, ok := byPathID(s, w, r, s.db.GetBulkJob)
	if !ok {
		return
	}
	id := j.ID
	name := strings.TrimSuffix(j.Name, filepath.Ext(j.Name)) + "-results.csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(strings.Map(safeFileRune, name)))
	w.Header().Set("Cache-Control", "no-store") // people's names, emails and links
	io.WriteString(w, csvsafe.BOM)
	if err := s.bulk.WriteResults(r.Context(), w, id); err != nil && !s.clientGone(r, err) {
		// Rows may have gone out: cut the download short so it cannot pass for complete.
		s.log.ErrorContext(r.Context(), "bulk results", "job", id, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func safeFileRune(r rune) rune {
	if r < 0x20 || r == '"' || r == '\\' || r > 0x7e {
		return '_'
	}
	return r
}
