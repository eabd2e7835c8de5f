package inquiry

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
)

// Settings are what the console needs to talk to Persona and to word its emails. The API key
// comes only from the environment; the rest can be changed by admins on the Settings page.
type Settings struct {
	APIKey           string // never rendered or logged; see MaskedKey
	APIBaseURL       string
	HostedURL        string // hosted-flow base, e.g. https://inquiry.withpersona.com
	EnvironmentID    string // env_..., for template links
	Version          string // Persona-Version
	RequireReference bool
	Company          string // named in emails; empty leaves it out of the wording
	OneTimeLinkTTL   time.Duration

	// Dev: the built-in sandbox stands in for Persona; its URLs are fixed at start.
	Dev bool

	// Client tuning; zero values take the persona package's defaults.
	RateLimit       int
	MaxRetryElapsed time.Duration
	BackoffBase     time.Duration
	// StaffReads is each account's Persona-backed reads a minute (reads.go); 0: DefaultStaffReads.
	StaffReads int
}

const defaultHostedURL = "https://inquiry.withpersona.com"

func (s Settings) withDefaults() Settings {
	if s.APIBaseURL == "" {
		s.APIBaseURL = persona.DefaultBaseURL
	}
	if s.HostedURL == "" {
		s.HostedURL = defaultHostedURL
	}
	if s.Version == "" {
		s.Version = persona.DefaultVersion
	}
	if s.OneTimeLinkTTL == 0 {
		s.OneTimeLinkTTL = 24 * time.Hour
	}
	s.APIBaseURL = strings.TrimRight(s.APIBaseURL, "/")
	s.HostedURL = strings.TrimRight(s.HostedURL, "/")
	return s
}

// Environment names the Persona environment for the banner: "Sandbox", "Production", or ""
// while no key is set.
func (s Settings) Environment() string {
	switch {
	case s.APIKey == "":
		return ""
	case s.Dev || strings.HasPrefix(s.APIKey, "persona_sandbox_"):
		return "Sandbox"
	default:
		return "Production"
	}
}

// MaskedKey shows enough of the key to recognise it and nothing more.
func (s Settings) MaskedKey() string {
	k := s.APIKey
	if k == "" {
		return "not set"
	}
	prefix := ""
	for _, p := range []string{"persona_production_", "persona_sandbox_"} {
		if strings.HasPrefix(k, p) {
			prefix = p
		}
	}
	tail := ""
	if len(k)-len(prefix) > 8 {
		tail = k[len(k)-4:]
	}
	return prefix + "••••••••" + tail
}

// Keys under which admins' changes are stored.
const (
	keyHostedURL        = "persona.hosted_url"
	keyEnvironmentID    = "persona.environment_id"
	keyVersion          = "persona.version"
	keyRequireReference = "inquiry.require_reference"
	keyCompany          = "mail.company"
)

// LoadSettings lays the admins' stored changes over base (flags and environment). In dev mode
// the Persona URLs stay on the built-in sandbox.
func LoadSettings(ctx context.Context, d *db.DB, base Settings) (Settings, error) {
	stored, err := d.Settings(ctx)
	if err != nil {
		return base, err
	}
	s := base
	if !base.Dev {
		if v := stored[keyHostedURL]; v != "" {
			s.HostedURL = v
		}
		if v, ok := stored[keyVersion]; ok && v != "" {
			s.Version = v
		}
	}
	if v, ok := stored[keyEnvironmentID]; ok {
		s.EnvironmentID = v
	}
	if v, ok := stored[keyRequireReference]; ok {
		s.RequireReference = v == "true"
	}
	if v, ok := stored[keyCompany]; ok {
		s.Company = v
	}
	return s.withDefaults(), nil
}

// SettingsInput is the Settings form. The API base URL is not in it: the API key goes wherever
// that URL points, so it is set only where the key is (flags and environment).
type SettingsInput struct {
	HostedURL, EnvironmentID, Version, Company string
	RequireReference                           bool
}

// SupportedVersions are the Persona-Version values the client understands.
var SupportedVersions = persona.SupportedVersions

// SaveSettings validates and stores an admin's changes and puts them in force at once. It
// returns problems per field (keys: hosted_url, environment_id, version, company).
func (s *Service) SaveSettings(ctx context.Context, a model.Actor, in SettingsInput) (map[string]string, error) {
	errs := map[string]string{}
	cur := s.Settings()
	in.HostedURL = strings.TrimRight(strings.TrimSpace(in.HostedURL), "/")
	in.EnvironmentID = strings.TrimSpace(in.EnvironmentID)
	in.Company = strings.TrimSpace(in.Company)
	if cur.Dev {
		in.HostedURL, in.Version = cur.HostedURL, cur.Version
	}
	if !validURL(in.HostedURL) {
		errs["hosted_url"] = "Enter a full https:// URL, like https://inquiry.withpersona.com."
	}
	if in.EnvironmentID != "" && !strings.HasPrefix(in.EnvironmentID, "env_") {
		errs["environment_id"] = "Environment ids start with env_ (see Persona's dashboard, API keys page)."
	}
	okVersion := false
	for _, v := range SupportedVersions {
		okVersion = okVersion || v == in.Version
	}
	if !okVersion {
		errs["version"] = "Linkdesk speaks Persona-Version " + strings.Join(SupportedVersions, ", ") + "."
	}
	if len(in.Company) > 100 {
		errs["company"] = "Use at most 100 characters."
	}
	if len(errs) > 0 {
		return errs, nil
	}
	values := map[string]string{
		keyEnvironmentID:    in.EnvironmentID,
		keyRequireReference: strconv.FormatBool(in.RequireReference),
		keyCompany:          in.Company,
	}
	if !cur.Dev {
		values[keyHostedURL], values[keyVersion] = in.HostedURL, in.Version
	}
	var changes []string
	old := map[string]string{keyHostedURL: cur.HostedURL, keyVersion: cur.Version,
		keyEnvironmentID: cur.EnvironmentID, keyRequireReference: strconv.FormatBool(cur.RequireReference), keyCompany: cur.Company}
	for k, v := range values {
		if old[k] != v {
			changes = append(changes, fmt.Sprintf("%s: %q → %q", k, old[k], v))
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}
	if err := s.db.SetSettings(ctx, values, audit(a, "settings.update", "persona", strings.Join(changes, "; "), nil)); err != nil {
		return nil, err
	}
	next, err := LoadSettings(ctx, s.db, cur)
	if err != nil {
		return nil, err
	}
	s.apply(next)
	return nil, nil
}

// validURL accepts https, and plain http only for this machine (a local stand-in).
func validURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "https" || u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" || u.Hostname() == "::1")
}
