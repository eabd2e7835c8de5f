package views

import (
	"regexp"
	"strings"
	"time"
)

// The one mapping from audit codes (and Persona's webhook event names) to words, for the
// detail page's Activity and the Audit page.

// PersonaActor is the actor of the Persona-made changes (webhook events) in an activity list.
const PersonaActor = "Persona"

var (
	toRecipient = regexp.MustCompile(`email(?: \d+)? to (\S+?)(?:,| with|$)`)
	// toBasis is why a link email went to its address (see inquiry.RecipientBasisWords).
	toBasis  = regexp.MustCompile(`^\S+ email to \S+?, ([^,]+), with`)
	linkKind = regexp.MustCompile(`^(\S+) link(?:, expires (\S+))?`)
)

// ActionText says what an audit entry (or a Persona event) records, as a sentence that starts
// with who did it: "Ada emailed the link to alexander@example.com".
func ActionText(a AuditRow) string {
	who := a.Actor
	if who == "" {
		who = "Someone"
	}
	to := ""
	if m := toRecipient.FindStringSubmatch(a.Detail); m != nil {
		to = m[1]
	}
	if a.Actor == PersonaActor {
		if a.Action == "inquiry.transitioned" {
			return transitionText(a.Detail)
		}
		return personaEventText(a.Action)
	}
	switch a.Action {
	case "inquiry.create":
		return who + " created the inquiry"
	case "inquiry.approve":
		return who + " approved the inquiry" + commentText(a.Detail)
	case "inquiry.decline":
		return who + " declined the inquiry" + commentText(a.Detail)
	case "inquiry.expire":
		return who + " expired the inquiry"
	case "inquiry.resume":
		return who + " resumed the expired inquiry to hand out a new link"
	case "note.add":
		return who + " added a note"
	case "note.edit":
		return who + " edited a note"
	case "note.delete":
		return who + " deleted a note"
	case "inquiry.assign":
		return who + " assigned the inquiry to " + assigneeName(a.Detail)
	case "inquiry.unassign":
		return who + " left the inquiry with nobody assigned"
	case "inquiry.tag":
		return who + " added the tag " + a.Detail
	case "email.notice":
		return who + " had " + orSomeone(a.Target) + " emailed: " + a.Detail
	case "view.save":
		return who + " saved the view " + a.Target
	case "view.delete":
		return who + " removed the view " + a.Target
	case "user.preferences":
		return who + " changed their email choices"
	case "link.issue":
		if m := linkKind.FindStringSubmatch(a.Detail); m != nil {
			return who + " issued " + article(linkKindText(m[1])) + " " + strings.ToLower(linkKindText(m[1]))
		}
		return who + " issued a link"
	case "email.queue":
		if m := toBasis.FindStringSubmatch(a.Detail); m != nil {
			return who + " emailed the link to " + orSomeone(to) + " (" + m[1] + ")"
		}
		return who + " emailed the link to " + orSomeone(to)
	case "email.sent":
		return "The mail server accepted the email to " + orSomeone(to)
	case "email.failed":
		return "The email to " + orSomeone(to) + " could not be delivered"
	case "email.retry":
		return who + " had the email to " + orSomeone(to) + " tried again"
	case "email.cancel":
		return who + " canceled the email to " + orSomeone(to)
	case "email.test":
		return who + " sent a test email to " + orSomeone(a.Target)
	case "settings.update":
		return who + " changed the Persona settings"
	case "settings.email":
		return who + " changed the email wording"
	case "template.import":
		return who + " imported the templates from Persona"
	case "template.save":
		return who + " saved the template " + a.Detail
	case "template.remove":
		return who + " removed the template " + a.Target
	case "user.add":
		return who + " added the staff member " + a.Target
	case "user.update":
		return who + " changed the staff member " + a.Target
	case "user.sign-in":
		if a.Detail != "" {
			return who + " signed in " + a.Detail // e.g. "with a recovery code (9 left)"
		}
		return who + " signed in"
	case "user.two-step.set-up":
		return who + " set up two-step sign-in"
	case "user.two-step.reset":
		return who + " reset the two-step sign-in of " + a.Target
	case "settings.two-step":
		return who + " changed the two-step sign-in requirement"
	case "user.password.change":
		return who + " changed their own password"
	case "user.sessions.end":
		return who + " signed out their other sessions"
	case "user.session-limit":
		return who + " signed in with every session in use, so the one used longest ago was ended"
	case "user.setup":
		return who + " set up the first admin account"
	case "user.sso-sign-in":
		return who + " signed in with SSO"
	case "user.sso-refused":
		if a.Target == "" {
			return "An SSO sign-in was refused"
		}
		return "An SSO sign-in as " + a.Target + " was refused"
	case "user.invite":
		return who + " invited " + a.Target + " to become staff"
	case "user.invite-accept":
		return who + " accepted the invitation and chose a password"
	case "user.invite-revoke":
		return who + " withdrew the invitation to " + a.Target
	case "user.reset-request":
		return "A password reset link was emailed to " + a.Target
	case "user.password-reset":
		return who + " reset their password with an emailed link"
	}
	return who + ": " + a.Action
}

// ActionDetail is what of an entry's detail the sentence does not say already.
func ActionDetail(a AuditRow) string {
	switch a.Action {
	case "inquiry.approve", "inquiry.decline", "email.sent", "email.failed", "email.retry", "email.cancel",
		"user.sign-in", "template.save", "template.remove", "email.test":
		return ""
	case "link.issue":
		return "" // its expiry is a time (ActionExpiry), shown in the viewer's zone
	case "inquiry.create":
		// "template KYC; …": the handler named the template.
		if rest, ok := strings.CutPrefix(a.Detail, "template "); ok {
			return "Template " + rest
		}
	case "email.queue":
		if i := strings.Index(a.Detail, ": "); i >= 0 {
			return "Subject " + a.Detail[i+2:]
		}
	}
	if a.Actor == PersonaActor {
		return ""
	}
	return a.Detail
}

// ActionExpiry is when the link an entry issued expires, if it says.
func ActionExpiry(a AuditRow) (time.Time, bool) {
	if a.Action != "link.issue" {
		return time.Time{}, false
	}
	m := linkKind.FindStringSubmatch(a.Detail)
	if m == nil || m[2] == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, m[2])
	return t, err == nil
}

func personaEventText(name string) string {
	switch name {
	case "inquiry.created":
		return "Persona created the inquiry"
	case "inquiry.started":
		return "The person started the verification"
	case "inquiry.completed":
		return "The person completed the verification"
	case "inquiry.failed":
		return "The person's verification failed"
	case "inquiry.approved":
		return "Persona approved the inquiry"
	case "inquiry.declined":
		return "Persona declined the inquiry"
	case "inquiry.expired":
		return "Persona expired the inquiry"
	case "inquiry.marked-for-review":
		return "Persona marked the inquiry for review"
	}
	return "Persona: " + strings.ReplaceAll(strings.TrimPrefix(name, "inquiry."), "-", " ")
}

func commentText(c string) string {
	if c == "" {
		return ""
	}
	return `, saying "` + c + `"`
}

func orSomeone(addr string) string {
	if addr == "" {
		return "the person"
	}
	return addr
}

func article(s string) string {
	if s != "" && strings.ContainsRune("AEIOUaeiou", rune(s[0])) {
		return "an"
	}
	return "a"
}

// StepsDetail is how a transition's steps travel in an activity row's detail.
func StepsDetail(from, to string) string { return from + " → " + to }

// stepWords names Persona's flow steps.
var stepWords = map[string]string{
	"start": "the start", "verification_database": "the details check", "verification_government_id": "the government ID step",
	"verification_selfie": "the selfie step", "verification_document": "the document step", "verification_phone_number": "the phone step",
	"verification_email_address": "the email step",
}

func stepText(s string) string {
	if w := stepWords[s]; w != "" {
		return w
	}
	return "the step " + strings.ReplaceAll(s, "_", " ")
}

// transitionText says what an inquiry.transitioned event did, from its steps (see
// StepsDetail): each transition of a flow reads differently.
func transitionText(detail string) string {
	from, to, _ := strings.Cut(detail, " → ")
	switch {
	case from == "" && to == "":
		return "The person moved on to the next step"
	case to == "success":
		return "The person passed " + stepText(from) + ", the last step"
	case to == "fail":
		return "The person did not pass " + stepText(from)
	case from == "" || from == "start":
		return "The person began with " + stepText(to)
	}
	return "The person finished " + stepText(from) + " and moved on to " + stepText(to)
}

// assigneeName reads the name from an assignment's detail: "to Bob (user 3, was user 0)".
func assigneeName(detail string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(detail, "to "), " (user ")
	return orSomeone(name)
}
