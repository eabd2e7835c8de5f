package views

import (
	"net/url"
	"strings"
	"time"
)

// AccountView is "Your account": two-step sign-in, sessions, the password form.
type AccountView struct {
	TwoStep       bool // two-step sign-in is on
	TwoStepNeeded bool // admins require it and it is off
	RecoveryLeft  int
	Sessions      []SessionRow
	MaxSessions   int  // an account's cap: signing in past it ends the session used longest ago
	Password      Form // current, new, confirm
	// Assignable: the account may be given inquiries, so it has email preferences;
	// AssignEmail is its choice of an email when that happens.
	Assignable, AssignEmail bool
}

// SessionRow is one signed-in browser of the account.
type SessionRow struct {
	Browser   string // from its user agent, in words
	IP        string
	SignedIn  time.Time
	LastSeen  time.Time
	ThisOne   bool
	UserAgent string
}

// TwoStepSetUpView shows the secret to add to an app, once, while setting up.
type TwoStepSetUpView struct {
	URL, Secret string
	Action      string // where the first code is posted
	Form        Form   // the code and its error
	AtSignIn    bool   // required at sign-in: the person is not signed in yet
}

// RecoveryCodesView shows the new recovery codes, the only time they are seen.
type RecoveryCodesView struct {
	Codes    []string
	Continue string // where to go on
}

// Text is the codes as a text file.
func (v RecoveryCodesView) Text() string {
	return "Linkdesk recovery codes. Each works once, in place of a code from your app.\n\n" + strings.Join(v.Codes, "\n") + "\n"
}

// DownloadURL is the codes as a data: URL for the download link (stored nowhere).
func (v RecoveryCodesView) DownloadURL() string {
	return "data:text/plain;charset=utf-8," + strings.ReplaceAll(url.QueryEscape(v.Text()), "+", "%20")
}

// BrowserName says which browser a user agent is, roughly, for the sessions list.
func BrowserName(ua string) string {
	browser, system := "", ""
	for _, b := range [][2]string{{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Chromium/", "Chromium"}, {"Safari/", "Safari"}, {"curl/", "curl"}} {
		if strings.Contains(ua, b[0]) {
			browser = b[1]
			break
		}
	}
	for _, s := range [][2]string{{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"}} {
		if strings.Contains(ua, s[0]) {
			system = s[1]
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "A browser on " + system
	}
	return "An unknown browser"
}
