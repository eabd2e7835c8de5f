package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// Stable identifiers of the seeded objects. They never change between runs, so
// configuration, fixtures and documentation can name them.
const (
	// DefaultAPIKey is the bearer key the sandbox accepts when Options.APIKey is empty.
	DefaultAPIKey = "persona_sandbox_linkdesk"

	// EnvironmentID is the id of the sandbox's one environment (hosted-flow
	// template links may carry it as environment-id).
	EnvironmentID = "env_N32AjbcqbBEA8nJzvwf7sJAf"

	// TemplateKYC is "KYC": passing inquiries complete and are then approved by
	// the template's workflow; failing inquiries end failed.
	TemplateKYC = "itmpl_PNc39Eo9uiUM1bGoKxuN2gYF"
	// TemplateKYCVersion is the published version of TemplateKYC.
	TemplateKYCVersion = "itmplv_5P1r5kafwjsewewqTpBD9Zeg"

	// TemplateKYCManualReview is "KYC with manual review": passing inquiries
	// complete and are then marked for review (needs_review) by the template's
	// workflow, waiting for an approve or decline; failing inquiries end failed.
	TemplateKYCManualReview = "itmpl_A9bEAf25uRunmGDXK4KsBGvA"
	// TemplateKYCManualReviewVersion is the published version of TemplateKYCManualReview.
	TemplateKYCManualReviewVersion = "itmplv_AYywAGVmtmfmxcmsUWDNNx6g"
)

// Verification templates used by the seeded inquiry templates' steps.
const (
	vtmplDatabase        = "vtmpl_DMriZfJme6FHFcNfdQ5xZHYn"
	vtmplvDatabase       = "vtmplv_tUxeipLuMraQKJXSfsWyCkWr"
	vtmplGovernmentID    = "vtmpl_QtH6Q3HuTEfgxciCbwBpqbaU"
	vtmplvGovernmentID   = "vtmplv_TJU9yzaTwGFHB3RdiQhusRBp"
	vtmplSelfie          = "vtmpl_XQGazp1vJGHvRNYJXCszazff"
	vtmplvSelfie         = "vtmplv_9qD3sKFriPfuaSe4uNb3McDS"
	workflowAutoApprove  = "wfl_3YuQ4ihxko7c29DbnMzAx4SX"
	base58Alphabet       = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	inquiryIDRandomChars = 28
	otherIDRandomChars   = 24
)

// randomString returns n characters of the Base58 alphabet from crypto/rand.
func randomString(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("sandbox: crypto/rand: " + err.Error())
		}
		for _, b := range buf {
			// 232 = 4*58: reject the tail so every character is equally likely.
			if b >= 232 {
				continue
			}
			out = append(out, base58Alphabet[int(b)%58])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}

// newID returns prefix plus random Base58 characters: 28 for inquiries (32
// characters in all, as Persona's inquiry ids since 2024-01-29), 24 otherwise.
func newID(prefix string) string {
	if prefix == "inq_" {
		return prefix + randomString(inquiryIDRandomChars)
	}
	return prefix + randomString(otherIDRandomChars)
}

// newUUID returns a random version 4 UUID string.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("sandbox: crypto/rand: " + err.Error())
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// clock hands out strictly increasing millisecond timestamps, so that every
// state change and every event has its own created-at / updated-at and
// consumers that order by time (as Persona tells them to) see a total order.
type clock struct {
	mu   sync.Mutex
	last time.Time
}

func (c *clock) stamp() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := time.Now().UTC().Truncate(time.Millisecond)
	if !t.After(c.last) {
		t = c.last.Add(time.Millisecond)
	}
	c.last = t
	return t
}

// timeFormat is Persona's timestamp format: ISO 8601, milliseconds, Z.
const timeFormat = "2006-01-02T15:04:05.000Z"

// ts renders t as Persona does, or JSON null for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

// unixOrNil renders t as unix seconds, or null for the zero time.
func unixOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}
