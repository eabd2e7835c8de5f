package inquiry

import (
	"context"
	"errors"
	"net/http"

	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
)

// ErrNoPhoto means Persona has no such photo for the inquiry: not taken, not of this
// verification type, or removed when the inquiry was redacted.
var ErrNoPhoto = errors.New("no such photo of this inquiry at Persona")

// Photo pages, as persona names them.
const (
	PhotoFront  = persona.PhotoFront
	PhotoBack   = persona.PhotoBack
	PhotoSelfie = persona.PhotoSelfie
)

// VerificationPhoto fetches one photo of the inquiry's verification from Persona, for a
// reviewer to see: the image bytes and their content type, held in memory only (the caller
// writes them to the response, nothing else). A verification of another inquiry, a redacted
// inquiry, or a page Persona has no photo of gives ErrNoPhoto. Each fetch spends a read of a's
// budget (ErrReadBudget past it), as every Persona-backed read by staff does.
func (s *Service) VerificationPhoto(ctx context.Context, a model.Actor, inquiryID, verificationID, page string) ([]byte, string, error) {
	ctx, cancel := staffCtx(ctx)
	defer cancel()
	q, err := s.db.GetInquiry(ctx, inquiryID)
	if err != nil {
		return nil, "", err
	}
	if !q.RedactedAt.IsZero() {
		return nil, "", ErrNoPhoto
	}
	if err := s.reads.take(a); err != nil {
		return nil, "", err
	}
	c, err := s.Client()
	if err != nil {
		return nil, "", err
	}
	v, err := c.GetVerification(ctx, verificationID)
	if persona.StatusOf(err) == http.StatusNotFound {
		return nil, "", ErrNoPhoto
	}
	if err != nil {
		return nil, "", err
	}
	url := v.PhotoURL(page)
	if v.InquiryID != inquiryID || url == "" {
		return nil, "", ErrNoPhoto
	}
	b, ct, err := c.GetFile(ctx, url)
	if persona.StatusOf(err) == http.StatusNotFound || errors.Is(err, persona.ErrNotImage) {
		return nil, "", ErrNoPhoto
	}
	return b, ct, err
}
