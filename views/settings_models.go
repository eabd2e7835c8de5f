package views

// Models of the Templates and Settings pages.

// TemplateRow is a known template on the Templates page.
type TemplateRow struct {
	ID           string
	Name         string
	IsDefault    bool
	ReminderDays string
}

// SettingsView is the Settings page.
type SettingsView struct {
	Form           Form
	MaskedKey      string
	Environment    string
	WebhookSecrets int
	Dev            bool
	Email          Form
	Preview        *EmailPreview

	TwoStepRequired bool // admins require two-step sign-in (views/account.templ)
	SSO             SSOSettings
	Retention       Form // the Data retention section (settings_retention.templ)
}

// EmailPreview shows a rendered link email.
type EmailPreview struct {
	Subject, Text, HTML string
	Error               string
	// HTMLURL serves the HTML version as its own document, for a frame with its own policy
	// (a srcdoc frame inherits the page's, which blocks the email's inline styles).
	HTMLURL string
}
