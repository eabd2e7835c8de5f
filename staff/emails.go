package staff

import (
	"bytes"
	"html/template"
	"strconv"
	"time"
)

// staffEmail is an email to a staff member: an invitation or a password reset. Its link carries
// a token that is stored nowhere but in this email (the database keeps the token's hash).
type staffEmail struct{ Subject, Text, HTML string }

var staffEmailHTML = template.Must(template.New("staff").Parse(`<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>Hello {{.Name}},</p>
<p>{{.Lead}}</p>
<p><a href="{{.Link}}">{{.Action}}</a></p>
<p>{{.Note}}</p>
<p style="color: #555">If you did not expect this email, you can ignore it.</p>
</body></html>`))

func composeStaffEmail(subject, name, lead, action, link, note string) staffEmail {
	var b bytes.Buffer
	// The template is fixed and its data plain strings: it cannot fail.
	_ = staffEmailHTML.Execute(&b, map[string]string{"Name": name, "Lead": lead, "Action": action, "Link": link, "Note": note})
	text := "Hello " + name + ",\n\n" + lead + "\n\n" + action + ":\n" + link + "\n\n" + note +
		"\n\nIf you did not expect this email, you can ignore it.\n"
	return staffEmail{Subject: subject, Text: text, HTML: b.String()}
}

func inviteEmail(name, inviter, link string, ttl time.Duration) staffEmail {
	return composeStaffEmail("You are invited to Linkdesk", name,
		inviter+" invited you to the Linkdesk staff console. Choose your password to set up your account.",
		"Choose your password", link,
		"The link works once and expires in "+hours(ttl)+".")
}

func resetEmail(name, link string, ttl time.Duration) staffEmail {
	return composeStaffEmail("Reset your Linkdesk password", name,
		"Someone (we hope you) asked to reset the password of your Linkdesk account.",
		"Choose a new password", link,
		"The link works once and expires in "+hours(ttl)+". Resetting signs your account out everywhere.")
}

func hours(d time.Duration) string {
	if h := int(d.Hours()); h != 1 {
		return strconv.Itoa(h) + " hours"
	}
	return "1 hour"
}
