// Package sandbox is Linkdesk's built-in stand-in for Persona: an in-process
// http.Handler that speaks Persona's REST API (versions 2023-01-05, 2025-10-27 and
// 2025-12-08, in any key inflection),
// serves a hosted flow a person can click through, sends signed webhooks on
// Persona's retry schedule, and injects faults on demand. No machine that
// runs Linkdesk's tests and demos reaches Persona, so the console is built and
// tested against this package. It follows /work/shared/persona-api.md (the
// contract), and it deliberately does not import package persona: it is the
// other side of the wire.
//
// # Use
//
//	sb := sandbox.New(sandbox.Options{WebhookURL: url, WebhookSecret: secret})
//	defer sb.Close()
//	srv := httptest.NewServer(sb) // or sandbox.Run(ctx, ":8091", opts, log)
//
// The console then uses srv.URL+"/api/v1" as Persona's base URL, the key
// DefaultAPIKey, and srv.URL as the hosted-flow host. Tests can finish an
// inquiry without a browser with Complete, read a status with Inquiry, change
// faults with SetKnobs, and count API calls with Stats.
//
// # Routes
//
// The API's route table is apiRoutes (api.go); its handlers are in
// api_inquiries.go, api_list.go, api_actions.go and api_objects.go.
//
//   - /api/v1/inquiries: list (GET), create (POST)
//   - /api/v1/inquiries/{id}: retrieve (GET), update (PATCH), redact (DELETE)
//   - /api/v1/inquiries/{id}/{approve, decline, mark-for-review, expire, resume,
//     generate-one-time-link, add-tag, remove-tag, set-tags, perform-simulate-actions} (POST)
//   - /api/v1/verifications/{id}, /api/v1/verification/{government-ids, selfies, databases}/{id} (GET)
//   - /api/v1/inquiry-sessions/{id}, /api/v1/accounts/{id} (GET)
//   - /api/v1/inquiry-templates[/{id}] (GET; refused for sandbox keys, as Persona does)
//   - /verify: the hosted flow (?inquiry-id=[&session-token=], ?code=,
//     ?inquiry-template-id=&environment-id=&reference-id=&fields[...]=, redirect-uri)
//   - /files/{verification}/{front, back, center}.png?access_token=: a submitted government ID's
//     and selfie's photos, small drawn images (api_files.go), named by their photo URLs;
//     none once redacted
//   - /_sandbox/knobs (GET, POST JSON), /_sandbox/stats, /_sandbox/webhook, / (index page)
//
// # Seeded templates
//
// TemplateKYC ("KYC"): a passing inquiry completes and the template's workflow
// approves it (inquiry.completed, then inquiry.approved); a failing one ends
// failed. TemplateKYCManualReview ("KYC with manual review"): a passing
// inquiry completes and the workflow marks it for review (needs_review,
// inquiry.marked-for-review), where it waits for approve or decline through
// the API; a failing one ends failed. Section 3 of the contract lists
// needs_review as a post-inquiry status that workflows may set, so the review
// template uses it rather than leaving the inquiry at completed.
//
// Both templates run the same three steps, each of which creates one
// verification: confirm details (verification/database), government ID
// (verification/government-id), selfie (verification/selfie). Submitting
// the first step moves the inquiry from created to pending (inquiry.started);
// every step emits inquiry.transitioned.
//
// # Where the sandbox had to guess (UNCONFIRMED by Persona's own text)
//
// These are the sandbox's choices where the contract marks behaviour as
// UNCONFIRMED or is silent. The console must not depend on them beyond what
// the contract says.
//
//  1. Errors. 401 always has the title "Must be authenticated to access this
//     endpoint" (missing, malformed or wrong key; Persona also has "Token is
//     invalid", and when it uses which is not documented). A missing template
//     id, or more than one of template-id / inquiry-template-id /
//     inquiry-template-version-id, is 400 "Bad Request" with details "You must
//     pass in either template-id OR inquiry-template-id OR
//     inquiry-template-version-id". An unknown template, template version or
//     account on create is 404 "Record not found" with details such as
//     "data.attributes.inquiry_template_id is not found" and a source.pointer.
//     Field errors (birthdate not YYYY-MM-DD, address-country-code not ISO
//     alpha-2, a standard field that is not a string) are 422 "Record
//     invalid" with source.pointer /data/attributes/fields/<key>.
//     meta.auto-create-account-reference-id with meta.auto-create-account
//     false is 400. Unknown routes are 404 "Not Found"; a wrong method is 405.
//     Persona's exact messages for all of these are not documented.
//  2. Idempotency. The same Idempotency-Key with different parameters
//     (method, path, query or JSON body, compared after canonicalizing the
//     JSON) is answered 422 "Unprocessable entity" (409 was the other
//     candidate). A second request with a key whose first request is still
//     running gets 409. A replay carries the first answer's Request-Id.
//     PATCH ignores the header (the docs only cover POST). Keys are kept
//     24 hours.
//  3. Injected errors (Knobs.ErrorRate) are 500 or 503 "Service unavailable"
//     produced in front of the API: nothing changes and nothing is stored
//     under the Idempotency-Key, so a retry with the same key runs. (Persona
//     says real 500s from the API are stored and replayed.)
//  4. Rate limit. The window starts at the first request and lasts 60 s;
//     RateLimit-Reset counts down to its end. With RateLimitPerMinute 0 the
//     headers still describe Persona's default of 300 with real counts, but
//     nothing is refused. Requests refused 401 are not counted; hosted-flow
//     pages are not counted. No Retry-After header and no Quota-* headers.
//  5. Inquiry templates API with a sandbox key: 403 "Forbidden" with the
//     documented sentence "For security reasons, we do not expose
//     organization-level resources like Inquiry Templates in Sandbox via API"
//     as details (the docs say "not exposed", not with which status). With
//     an APIKey starting "persona_production_" the endpoints list the
//     templates as production would, and simulate actions answer 403.
//  6. Sandbox key prefix: the default key is "persona_sandbox_linkdesk";
//     the persona_sandbox_ prefix itself is not confirmed by Persona.
//  7. creator is "API" for inquiries created through the API (or the
//     creator-email-address given), "Hosted flow" for those created by a
//     template link.
//  8. Step names: previous-step-name / next-step-name go start →
//     verification_database → verification_government_id →
//     verification_selfie → success (or fail). Persona's names for a KYC
//     template are not documented. The confirm-details step creates a
//     verification/database so that "pending the moment a verification is
//     created" holds; its check names (database_identity_comparison,
//     database_deceased_detection, ...) are guesses. Government ID and selfie
//     checks use names from Persona's examples; failing runs fail
//     id_entity_detection (cannot_verify_id) and id_portrait_detection,
//     selfie_id_comparison (no_match) and selfie_liveness_detection
//     (no_live_face), the latter reasons being guesses.
//  9. A failed verification fails the inquiry at once (Persona allows a
//     template-configured number of attempts first).
//  10. Sandbox sample data (section 9.1): after a passing government ID the
//     inquiry's name-first / name-middle / name-last become "Alexander" /
//     "J" / "Sample" and the verification reports ALEXANDER J SAMPLE with
//     identification number I1234562. The contract documents the overwrite;
//     exactly when it happens and which fields it touches is a guess. A
//     console must therefore not expect the names it prefilled to survive a
//     sandbox verification. Not Persona's: the hosted government ID step has
//     optional "First name on the ID" / "Last name on the ID" fields; a name
//     typed there is what the ID reads (upper case, no middle name) and what
//     the inquiry's names become, so a console can show a difference.
//  11. Workflows run at once on completion, with their own later timestamps:
//     KYC's approval sets relationships.reviewer to a workflow-run (wfr_).
//     Failing inquiries are not auto-declined.
//  12. Expiry: created and pending inquiries expire; others never do.
//     expires-at is creation + InquiryExpiry, restarts at start with the
//     from-start interval ("Time interval from inquiry start", OAS) and at
//     resume with the from-resume interval; meta.expiration-after-*-seconds
//     override each. expires-at stays set after completion; expired-at stays
//     set after a resume. Expiring also expires the inquiry's sessions and
//     one-time links.
//  13. Resume emits no webhook event (Persona documents none). Resuming a
//     pending inquiry also restarts its expiry. Resume of created, of a
//     finished inquiry or of a redacted one is 409. A fresh session is
//     created unless one exists that nobody has opened yet.
//  14. One-time links default to 24 hours (the API docs; the help center says
//     1 hour) or meta.expires-in-seconds / meta.one-time-link-expiration-seconds;
//     work for 5 minutes after first use; one-time-link-short is the same
//     /verify?code= URL with an 8-character code. For an expired or redacted
//     inquiry generate-one-time-link is 409 "Conflict".
//  15. Decisions: approve and decline are accepted from any status except
//     approved and declined (409); meta.comment is stored in
//     reviewer-comment; relationships.reviewer stays null for API decisions.
//     mark-for-review of approved or declined is 409 (422 was the other
//     candidate); of needs_review it is a 200 no-op without an event. expire
//     is only for created and pending (409 otherwise).
//  16. Update: PATCH of a redacted inquiry is 409; updates emit no event.
//  17. Redaction nulls every field value and flattened PII attribute, and the
//     PII of the inquiry's verifications and sessions, at once (Persona does
//     children asynchronously); reference-id, note and tags stay. No
//     inquiry.redacted event (not in Persona's event list).
//  18. List: page[size] outside 1..100, an unknown cursor, page[after] with
//     page[before], include=, an unknown filter or filter[note] with another
//     filter are 400 "Bad Request" (Persona's answers are not documented).
//     filter[note] matches exactly. links keep the request's filters and
//     page[size]; links.prev uses page[before] (the OAS example shows
//     page[after] in both, which looks like a copy). Unknown include paths
//     on retrieve are 400.
//  19. Included objects: retrieve includes sessions, verifications and the
//     inquiry template by default (the OAS description also names reports and
//     documents, which the sandbox never creates); create, update and actions
//     include only what ?include asks for. Webhook payloads include the same
//     defaults as retrieve (webhooks created after 2026-01-28 send none
//     unless allowlisted: not modelled). Events have no context attribute.
//  20. Webhooks: evt_ ids are the prefix plus 24 characters (Persona's
//     examples have 28). First attempts leave in event order from one queue
//     unless OutOfOrderWebhooks is on. Persona-Webhook-Attempts-Left is 8
//     minus attempts made (7 on the first attempt, as in the quickstart). A
//     3xx counts as a failure and is not followed. Events raised while no
//     webhook URL is set are skipped, not kept for later. Only inquiry.*
//     events are sent (no verification.*, inquiry-session.*, account.*).
//  21. Session tokens are HS256 JWTs shaped like Persona's (sub and sid the
//     iqse_ id, aud persona-verify, 24 h) signed with a per-sandbox key; iss
//     is the sandbox's host. After each step the hosted flow continues on a
//     URL carrying ?session-token= (Persona keeps it in sessionStorage).
//     A pending inquiry opened without a valid token shows "Session expired";
//     a created one opens for anyone with the link.
//  22. Hosted-flow redirect: redirect-uri (from the link, else the
//     inquiry) gets inquiry-id, status and reference-id; status is the flow's
//     outcome, completed or failed, even when a workflow has since approved or
//     marked the inquiry. No fields parameters are added. The Continue button
//     that redirects is shown only when there is a redirect-uri.
//  23. Persona-Version (default 2023-01-05, the sandbox key's own) and
//     Key-Inflection shape the answer (versions.go); another version or
//     inflection is a 400. From 2025-10-27: no top-level PII, fields under
//     their configured snake keys (never inflected), nothing included unless
//     asked for, top-level PII in create and update ignored. Webhooks use the
//     webhook's own version and inflection (Options), with included: [] from
//     2025-10-27. Request keys may be kebab, snake or camel case.
//  26. A one-time link is one browser's (a cookie): another browser is
//     refused at once, the first keeps a 5-minute grace for reloads.
//  27. At most ActiveTagLimit (1000) distinct tags are active; a request that
//     would create another is a 422 naming the limit.
//  24. address-subdivision-abbr is derived from a table of US states;
//     address-postal-code-abbr repeats the postal code.
//  25. perform-simulate-actions: create_passed_verification and
//     create_failed_verification attach a verification (and start a created
//     inquiry) without moving the flow's steps; an impossible action is 422.
//
// Not implemented: the inquiry PDF, inquiry-session list/create/expire,
// webhook management (beyond listing the one webhook) and events APIs,
// reports, documents and selfies objects (a government ID's document is only
// referenced), tag ids and transactions.
package sandbox
