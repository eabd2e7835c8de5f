package views

import (
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/model"
)

// The sentences handlers show in flashes and notices, kept here with the rest of the words
// people read.

// PersonaUnreachableNotice warns above the list that Persona has not answered since since, so
// the list shows what Linkdesk knew then; lastErr is the failure in words.
func PersonaUnreachableNotice(since, now time.Time, lastErr string) string {
	return "Persona cannot be reached since " + When(since) + " (" + Ago(since, now) +
		"), so this list shows what Linkdesk knew then; it catches up by itself once Persona answers. " + lastErr
}

// WebhookSilenceNotice warns above the list that no webhook has arrived since last (zero: ever)
// while open inquiries wait on Persona.
func WebhookSilenceNotice(last, now time.Time, open int64) string {
	since := "no webhook from Persona has arrived yet"
	if !last.IsZero() {
		since = "no webhook from Persona has arrived since " + When(last) + " (" + Ago(last, now) + ")"
	}
	return strings.ToUpper(since[:1]) + since[1:] + ", while " + Thousands(open) +
		" inquiries are open: statuses may be behind until the next sync. An admin can check the Webhooks page and the webhook in Persona's dashboard."
}

// EmailQueuedFlash confirms a link email went to the outbox, and when it leaves.
func EmailQueuedFlash(recipient string, mailConfigured bool) string {
	msg := "Email to " + recipient + " is in the outbox"
	if mailConfigured {
		return msg + " and goes out in a moment."
	}
	return msg + ". It waits there until a mail server is configured."
}

// ResumeEmailedFlash confirms "Resume and email": a one-time link issued and its email queued.
func ResumeEmailedFlash(recipient string, mailConfigured bool) string {
	return "Resumed: a new one-time link was issued (it replaces the last) and emailed. " + EmailQueuedFlash(recipient, mailConfigured)
}

// EmailRetriedFlash and EmailCanceledFlash confirm a staff member's retry or cancel.
func EmailRetriedFlash(recipient string) string {
	return "The email to " + recipient + " will be tried again now."
}

func EmailCanceledFlash(recipient string) string {
	return "The email to " + recipient + " was canceled; it will not go out."
}

// EmailActionRefusedFlash says why a retry or cancel (action "retry" or "cancel") did not
// happen: the email moved on to state while the page was open.
func EmailActionRefusedFlash(recipient, action, state string) string {
	verb := map[string]string{"retry": "tried again", "cancel": "canceled"}[action]
	return "The email to " + recipient + " cannot be " + verb + ": it is " + strings.ToLower(EmailStateText(state)) + " now."
}

// TestEmailAcceptedResult reports a test email the mail server accepted; inMailbox says the dev
// Mailbox caught it.
func TestEmailAcceptedResult(to string, inMailbox bool) string {
	result := "The mail server accepted the test email to " + to + ". Look for it in that inbox"
	if inMailbox {
		result += " (here: the Mailbox)"
	}
	return result + "."
}

// Day is a date as people write it, e.g. "3 Nov 2026".
func Day(t time.Time) string { return t.UTC().Format("2 Jan 2006") }

// PriorOutcomeText says how the person's earlier inquiry ended: "usr_X was declined on 3 Nov
// 2026 by Ada" or "usr_X failed verification on 3 Nov 2026 (decided by Persona)".
func PriorOutcomeText(g *GuardView) string {
	by := g.OutcomeBy
	if by == "" {
		by = "Persona"
	}
	if g.Existing.Status == string(model.Failed) {
		return g.Existing.ReferenceID + " failed verification on " + Day(g.OutcomeAt) + " (decided by " + by + ")"
	}
	return g.Existing.ReferenceID + " was declined on " + Day(g.OutcomeAt) + " by " + by
}

// ResumeNote says what "Resume and email" does, fitting the facts: an expired inquiry is
// resumed first, and only a started one continues where the person stopped.
func ResumeNote(expired, started bool, to string) string {
	switch {
	case expired && !started:
		return "Resumes the inquiry at Persona, makes a one-time link that opens the flow and emails it to " + to + ", in one step."
	case expired:
		return "Resumes the inquiry at Persona, makes a one-time link that continues where the person stopped (it replaces the last) and emails it to " + to + ", in one step."
	}
	return "Makes a one-time link that continues where the person stopped (it replaces the last) and emails it to " + to + ", in one step."
}

// BulkTwoCallsNote says what each new person of a bulk send costs at Persona while the cache
// has never read all of Persona's inquiries.
const BulkTwoCallsNote = "Each new person costs two calls to Persona: one to look for an inquiry made outside this console, then the create. " +
	"This console has never read all of Persona's inquiries; run “linkdesk sync --full” once and it will be one call each."

// StatusPhrase says a status as it reads after "is" (model.Status.Phrase).
func StatusPhrase[S ~string](s S) string { return model.Status(s).Phrase() }

// StatusText is a status in words for people (model.Status.Text). It takes any string type
// because verifications' statuses share the badge.
func StatusText[S ~string](s S) string { return model.Status(s).Text() }
