// Package views renders the console's pages with templ. It holds view models only: no
// database, no requests.
package views

import "github.com/linkdesk/linkdesk/model"

// Me is the signed-in staff member as the layout shows them.
type Me struct {
	ID    int64
	Name  string
	Email string
	Role  string
}

// Can reports whether the role reaches the given level: viewer < agent < reviewer < admin.
func (m *Me) Can(role string) bool {
	if m == nil {
		return false
	}
	return model.Role(m.Role).Level() >= model.Role(role).Level()
}

// Page is what every full page needs from the layout.
type Page struct {
	Title     string
	Me        *Me
	Nav       string // the active navigation entry
	Env       string // "Sandbox" or "Production"; empty until Persona is configured
	Flash     string
	FlashKind string // "ok" or "error"
	Banner    string // a site-wide warning, e.g. Persona unreachable
	Dev       bool   // shows the dev-only Mailbox
	Assigned  int    // inquiries assigned to the signed-in staff member (the header's count)
	Asset     func(name string) string
}

// Form carries what the person typed and what was wrong with it, per field name.
type Form struct {
	Values map[string]string
	Errors map[string]string
	Error  string // a problem with the whole form
}

// V returns the typed value of a field.
func (f Form) V(name string) string { return f.Values[name] }

// E returns the error of a field.
func (f Form) E(name string) string { return f.Errors[name] }

// StaffRow is one line of the Staff page.
type StaffRow struct {
	ID       int64
	Name     string
	Email    string
	Role     string
	Disabled bool
	Self     bool
	TwoStep  bool // has two-step sign-in (an admin can reset it)
	SSO      bool // signs in with SSO: the provider's groups set the role at each sign-in
	// After a refused change: the row's form opens again with the message and the typed role.
	EditError string
	EditRole  string
}

// ErrorPage describes a styled error page.
type ErrorPage struct {
	Status  int
	Heading string
	Message string
}
