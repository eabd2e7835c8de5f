package persona

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// CreateInquiryParams are the inputs of CreateInquiry.
type CreateInquiryParams struct {
	// TemplateID is itmpl_... (latest published version) or itmplv_...
	// (a pinned version); legacy tmpl_... is passed as template-id.
	TemplateID string
	// ReferenceID is sent as meta.auto-create-account-reference-id, which
	// Persona now prefers to the deprecated reference-id attribute.
	ReferenceID string
	// Fields are prefilled values under their kebab keys (name-first,
	// birthdate, email-address, ...); empty values are left out. From 2025-10-27 they are
	// sent under the template's configured (snake) keys.
	Fields             map[string]string
	Note               string
	Tags               []string
	RedirectURI        string
	ExpiresAfterCreate time.Duration // 0: the template's setting
	// IdempotencyKey should be stored before the call so a retry after a
	// crash cannot create a second inquiry. With it the call is retried on
	// 429, 5xx and network errors; without it, never.
	IdempotencyKey string
}

type createInquiryBody struct {
	Data struct {
		Attributes createInquiryAttrs `json:"attributes"`
	} `json:"data"`
	Meta map[string]any `json:"meta,omitempty"`
}

type createInquiryAttrs struct {
	InquiryTemplateID        string            `json:"inquiry-template-id,omitempty"`
	InquiryTemplateVersionID string            `json:"inquiry-template-version-id,omitempty"`
	TemplateID               string            `json:"template-id,omitempty"`
	RedirectURI              string            `json:"redirect-uri,omitempty"`
	Note                     string            `json:"note,omitempty"`
	Tags                     []string          `json:"tags,omitempty"`
	Fields                   map[string]string `json:"fields,omitempty"`
}

// CreateInquiry creates an inquiry (POST /inquiries, 201).
func (c *Client) CreateInquiry(ctx context.Context, p CreateInquiryParams) (*Inquiry, error) {
	var b createInquiryBody
	a := &b.Data.Attributes
	switch id := strings.TrimSpace(p.TemplateID); {
	case strings.HasPrefix(id, "itmplv_"):
		a.InquiryTemplateVersionID = id
	case strings.HasPrefix(id, "itmpl_"):
		a.InquiryTemplateID = id
	case strings.HasPrefix(id, "tmpl_"):
		a.TemplateID = id
	case id == "":
		return nil, errors.New("persona: create inquiry: a template id (itmpl_... or itmplv_...) is required")
	default:
		return nil, fmt.Errorf("persona: create inquiry: template id %q should start with itmpl_ or itmplv_", id)
	}
	a.RedirectURI = p.RedirectURI
	a.Note = p.Note
	a.Tags = p.Tags
	a.Fields = c.fieldKeys(nonEmpty(p.Fields))
	b.Meta = map[string]any{}
	if p.ReferenceID != "" {
		b.Meta["auto-create-account-reference-id"] = p.ReferenceID
	}
	if p.ExpiresAfterCreate > 0 {
		b.Meta["expiration-after-create-interval-seconds"] = seconds(p.ExpiresAfterCreate)
	}
	d, err := c.do(ctx, call{method: http.MethodPost, path: "/inquiries", body: b, idem: p.IdempotencyKey})
	if err != nil {
		return nil, err
	}
	return inquiryFromDoc(d)
}

// GetInquiry retrieves an inquiry; include names related resources
// (e.g. "verifications", "sessions") to ask for.
func (c *Client) GetInquiry(ctx context.Context, id string, include ...string) (*Inquiry, error) {
	eid, err := escapeID("get inquiry", id)
	if err != nil {
		return nil, err
	}
	if len(include) == 0 && fieldsVerbatim(c.cfg.Version) {
		// From 2025-10-27 nothing is included unless asked for; the template (its name) was
		// included by default before, so ask for it in the same call.
		include = []string{"inquiry-template"}
	}
	var q url.Values
	if len(include) > 0 {
		q = url.Values{"include": {strings.Join(include, ",")}}
	}
	d, err := c.do(ctx, call{method: http.MethodGet, path: "/inquiries/" + eid, query: q})
	if err != nil {
		return nil, err
	}
	return inquiryFromDoc(d)
}

// ListInquiriesParams filter and page GET /inquiries. Zero fields are not sent.
type ListInquiriesParams struct {
	ReferenceID   string
	AccountID     string   // act_..., comma-separated allowed
	TemplateID    string   // itmpl_..., comma-separated allowed
	Status        string   // e.g. "created,pending"
	InquiryIDs    []string // filter[inquiry-id]: at most 100 ids
	CreatedAfter  time.Time
	CreatedBefore time.Time
	PageSize      int    // 1..100 (clamped); 0: Persona's default of 10
	After         string // page[after] cursor from InquiryPage.NextAfter
}

// InquiryPage is one page of inquiries, newest first.
type InquiryPage struct {
	Inquiries []*Inquiry
	NextAfter string // cursor for the next page; "" on the last page
}

// ListInquiries fetches one page of inquiries.
func (c *Client) ListInquiries(ctx context.Context, p ListInquiriesParams) (*InquiryPage, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("filter[reference-id]", p.ReferenceID)
	set("filter[account-id]", p.AccountID)
	set("filter[inquiry-template-id]", p.TemplateID)
	set("filter[status]", p.Status)
	if len(p.InquiryIDs) > 100 {
		return nil, fmt.Errorf("persona: list inquiries: filter[inquiry-id] takes at most 100 ids, got %d", len(p.InquiryIDs))
	}
	set("filter[inquiry-id]", strings.Join(p.InquiryIDs, ","))
	if !p.CreatedAfter.IsZero() {
		q.Set("filter[created-at-start]", formatTime(p.CreatedAfter))
	}
	if !p.CreatedBefore.IsZero() {
		q.Set("filter[created-at-end]", formatTime(p.CreatedBefore))
	}
	if p.PageSize > 0 {
		q.Set("page[size]", strconv.Itoa(min(p.PageSize, 100)))
	}
	set("page[after]", p.After)

	d, err := c.do(ctx, call{method: http.MethodGet, path: "/inquiries", query: q})
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if !isNull(d.Data) {
		if err := decodeJSON(d.Data, &items); err != nil {
			return nil, fmt.Errorf("persona: list inquiries: data is not a list: %w", err)
		}
	}
	page := &InquiryPage{Inquiries: make([]*Inquiry, 0, len(items))}
	for i, raw := range items {
		var r resource
		if err := decodeJSON(raw, &r); err != nil {
			return nil, fmt.Errorf("persona: list inquiries: item %d: %w", i, err)
		}
		inq, err := inquiryFromResource(&r, d.Included)
		if err != nil {
			return nil, fmt.Errorf("persona: list inquiries: item %d: %w", i, err)
		}
		page.Inquiries = append(page.Inquiries, inq)
	}
	page.NextAfter = d.nextCursor()
	if page.NextAfter == "" && d.Links.Next != nil && *d.Links.Next != "" && len(page.Inquiries) > 0 {
		// A next link without page[after]: Persona's cursors are object
		// ids, so continue after the last one.
		page.NextAfter = page.Inquiries[len(page.Inquiries)-1].ID
	}
	return page, nil
}

// EachInquiry calls fn for every inquiry matching p, page after page, until
// the last page, an error, or fn returns an error (returned as is). PageSize
// defaults to 100 here, the most Persona allows, to spend fewer requests.
func (c *Client) EachInquiry(ctx context.Context, p ListInquiriesParams, fn func(*Inquiry) error) error {
	if p.PageSize <= 0 {
		p.PageSize = 100
	}
	var cursors CursorGuard
	for {
		page, err := c.ListInquiries(ctx, p)
		if err != nil {
			return err
		}
		for _, inq := range page.Inquiries {
			if err := fn(inq); err != nil {
				return err
			}
		}
		if page.NextAfter == "" {
			return nil
		}
		if err := cursors.Follow(p.After, page.NextAfter); err != nil {
			return err
		}
		p.After = page.NextAfter
	}
}

// ErrCursorLoop means Persona's links.next pointed back at a page already read; following it
// would repeat the same calls forever and use up the rate limit.
var ErrCursorLoop = errors.New("persona: list inquiries: Persona's next-page link repeated a page already read")

// CursorGuard is the one rule for walking Persona's list pages: a next cursor that does not
// advance (equals the current one) or repeats an earlier one stops the walk. The zero value
// is ready to use.
type CursorGuard struct {
	seen  map[string]bool
	pages int
}

// Follow records that the walk moves from cursor cur ("" on the first page) to next, or
// returns an error wrapping ErrCursorLoop when next was already followed.
func (g *CursorGuard) Follow(cur, next string) error {
	if g.seen == nil {
		g.seen = map[string]bool{}
	}
	g.seen[cur] = true
	g.pages++
	if g.seen[next] {
		return fmt.Errorf("%w (page[after]=%s after %d pages); stopping instead of asking again", ErrCursorLoop, next, g.pages)
	}
	g.seen[next] = true
	return nil
}

// UpdateInquiryParams change an inquiry (PATCH). Nil or empty fields are not sent.
type UpdateInquiryParams struct {
	Fields map[string]string
	Note   *string
	Tags   []string
}

// UpdateInquiry updates fields, note or tags. PATCH is never retried.
func (c *Client) UpdateInquiry(ctx context.Context, id string, p UpdateInquiryParams) (*Inquiry, error) {
	eid, err := escapeID("update inquiry", id)
	if err != nil {
		return nil, err
	}
	attrs := map[string]any{}
	if f := c.fieldKeys(nonEmpty(p.Fields)); f != nil {
		attrs["fields"] = f
	}
	if p.Note != nil {
		attrs["note"] = *p.Note
	}
	if p.Tags != nil {
		attrs["tags"] = p.Tags
	}
	body := map[string]any{"data": map[string]any{"attributes": attrs}}
	d, err := c.do(ctx, call{method: http.MethodPatch, path: "/inquiries/" + eid, body: body})
	if err != nil {
		return nil, err
	}
	return inquiryFromDoc(d)
}

// ResumeInquiry resumes a pending or expired inquiry (an expired one turns
// pending) and returns a session token for the hosted flow.
func (c *Client) ResumeInquiry(ctx context.Context, id string) (inq *Inquiry, sessionToken string, err error) {
	d, err := c.action(ctx, "resume", id, nil)
	if err != nil {
		return nil, "", err
	}
	inq, err = inquiryFromDoc(d)
	if err != nil {
		return nil, "", err
	}
	return inq, d.metaString("session-token"), nil
}

// GenerateOneTimeLink returns a single-use link to the inquiry (and its short
// form); expiresIn > 0 overrides the template's expiry.
func (c *Client) GenerateOneTimeLink(ctx context.Context, id string, expiresIn time.Duration) (inq *Inquiry, link, shortLink string, err error) {
	var body any
	if expiresIn > 0 {
		body = map[string]any{"meta": map[string]any{"expires-in-seconds": seconds(expiresIn)}}
	}
	d, err := c.action(ctx, "generate-one-time-link", id, body)
	if err != nil {
		return nil, "", "", err
	}
	inq, err = inquiryFromDoc(d)
	if err != nil {
		return nil, "", "", err
	}
	return inq, d.metaString("one-time-link"), d.metaString("one-time-link-short"), nil
}

// ApproveInquiry approves the inquiry, with an optional comment.
func (c *Client) ApproveInquiry(ctx context.Context, id, comment string) (*Inquiry, error) {
	return c.inquiryAction(ctx, "approve", id, commentBody(comment))
}

// DeclineInquiry declines the inquiry, with an optional comment.
func (c *Client) DeclineInquiry(ctx context.Context, id, comment string) (*Inquiry, error) {
	return c.inquiryAction(ctx, "decline", id, commentBody(comment))
}

// MarkInquiryForReview moves the inquiry to needs_review.
func (c *Client) MarkInquiryForReview(ctx context.Context, id string) (*Inquiry, error) {
	return c.inquiryAction(ctx, "mark-for-review", id, nil)
}

// ExpireInquiry expires the inquiry and its sessions; it can still be resumed.
func (c *Client) ExpireInquiry(ctx context.Context, id string) (*Inquiry, error) {
	return c.inquiryAction(ctx, "expire", id, nil)
}

// AddInquiryTag adds a tag (by name) to the inquiry; Persona creates the tag if it is new.
func (c *Client) AddInquiryTag(ctx context.Context, id, name string) (*Inquiry, error) {
	return c.inquiryAction(ctx, "add-tag", id, map[string]any{"meta": map[string]any{"tag-name": name}})
}

// RedactInquiry permanently deletes the inquiry's PII (DELETE /inquiries/{id}).
func (c *Client) RedactInquiry(ctx context.Context, id string) (*Inquiry, error) {
	eid, err := escapeID("redact inquiry", id)
	if err != nil {
		return nil, err
	}
	d, err := c.do(ctx, call{method: http.MethodDelete, path: "/inquiries/" + eid})
	if err != nil {
		return nil, err
	}
	return inquiryFromDoc(d)
}

// action POSTs to /inquiries/{id}/{name} with an Idempotency-Key, and so is retried like
// create: the key set with WithIdempotencyKey (stored by the caller before the call, so a retry
// after a crash reuses it), else a fresh one that covers this call's own retries.
func (c *Client) action(ctx context.Context, name, id string, body any) (*document, error) {
	eid, err := escapeID(name+" inquiry", id)
	if err != nil {
		return nil, err
	}
	key := idempotencyKeyFrom(ctx)
	if key == "" {
		key = rand.Text()
	}
	return c.do(ctx, call{method: http.MethodPost, path: "/inquiries/" + eid + "/" + name, body: body, idem: key})
}

func (c *Client) inquiryAction(ctx context.Context, name, id string, body any) (*Inquiry, error) {
	d, err := c.action(ctx, name, id, body)
	if err != nil {
		return nil, err
	}
	return inquiryFromDoc(d)
}

func commentBody(comment string) any {
	if comment == "" {
		return nil
	}
	return map[string]any{"meta": map[string]any{"comment": comment}}
}

func nonEmpty(m map[string]string) map[string]string {
	var out map[string]string
	for k, v := range m {
		if strings.TrimSpace(v) == "" {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(m))
		}
		out[k] = v
	}
	return out
}

// seconds rounds up so a sub-second duration never becomes 0 ("no override").
func seconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// formatTime is Persona's timestamp form: UTC with milliseconds.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
