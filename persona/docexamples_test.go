package persona

// Examples copied verbatim from persona-api.md (the contract), so the client
// is checked against the documented shapes rather than against itself.

// docCreateRequestBody is section 2.1's example create request body.
const docCreateRequestBody = `{
  "data": {
    "attributes": {
      "inquiry-template-id": "itmpl_p8ANAJy9iqadm2buF2xcVgqH",
      "redirect-uri": "https://example.com/done",
      "note": "signup",
      "tags": ["web"],
      "fields": {
        "name-first": "Jane", "name-last": "Doe",
        "birthdate": "1995-09-08",
        "email-address": "jane@doe.com",
        "address-country-code": "US"
      }
    }
  },
  "meta": {
    "auto-create-account-reference-id": "user_123",
    "expiration-after-create-interval-seconds": 86400
  }
}`

// docCreateResponse is section 2.1's example 201 response.
const docCreateResponse = `{
  "data": {
    "type": "inquiry",
    "id": "inq_zEx4jL84ShbUyuwX6AzPSqt6",
    "attributes": {
      "status": "created",
      "reference-id": "user_123",
      "note": "signup",
      "behaviors": { "request-spoof-attempts": 0, "user-agent-spoof-attempts": 0, "distraction-events": 0,
                     "hesitation-baseline": 0, "hesitation-count": 0, "hesitation-time": 0,
                     "shortcut-copies": 0, "shortcut-pastes": 0, "autofill-cancels": 0, "autofill-starts": 0,
                     "devtools-open": false, "completion-time": 0, "hesitation-percentage": 0,
                     "behavior-threat-level": "low" },
      "tags": ["web"],
      "creator": "creator@withpersona.com",
      "reviewer-comment": null,
      "created-at": "2023-03-29T19:06:45.000Z",
      "updated-at": "2023-03-29T19:06:45.000Z",
      "started-at": null, "expires-at": "2023-03-30T19:06:45.000Z",
      "completed-at": null, "failed-at": null, "marked-for-review-at": null,
      "decisioned-at": null, "expired-at": null, "redacted-at": null,
      "previous-step-name": "start", "next-step-name": "verification_document",
      "name-first": "Jane", "name-middle": null, "name-last": "Doe", "birthdate": "1995-09-08",
      "address-street-1": null, "address-street-2": null, "address-city": null,
      "address-subdivision": null, "address-subdivision-abbr": null,
      "address-postal-code": null, "address-postal-code-abbr": null,
      "social-security-number": null, "identification-number": null,
      "email-address": "jane@doe.com", "phone-number": null,
      "fields": {
        "name-first": {"type": "string", "value": "Jane"},
        "name-middle": {"type": "string", "value": null},
        "name-last": {"type": "string", "value": "Doe"},
        "birthdate": {"type": "date", "value": "1995-09-08"},
        "address-street-1": {"type": "string", "value": null},
        "address-street-2": {"type": "string", "value": null},
        "address-city": {"type": "string", "value": null},
        "address-subdivision": {"type": "string", "value": null},
        "address-postal-code": {"type": "string", "value": null},
        "address-country-code": {"type": "string", "value": "US"},
        "email-address": {"type": "string", "value": "jane@doe.com"},
        "phone-number": {"type": "string", "value": null},
        "identification-number": {"type": "string", "value": null}
      }
    },
    "relationships": {
      "account": {"data": {"type": "account", "id": "act_n2uq9eKMboaCQzu9ALWYcVdN"}},
      "template": {"data": null},
      "inquiry-template": {"data": {"type": "inquiry-template", "id": "itmpl_p8ANAJy9iqadm2buF2xcVgqH"}},
      "inquiry-template-version": {"data": {"type": "inquiry-template-version", "id": "itmplv_iXhqfNWqwYLAWs9G8Fm8hPfo"}},
      "transaction": {"data": null},
      "reviewer": {"data": null},
      "reports": {"data": []},
      "verifications": {"data": []},
      "sessions": {"data": []},
      "documents": {"data": []},
      "selfies": {"data": []}
    }
  },
  "meta": {
    "session-token": "eyJhbGciOiJIUzI1NiJ9.…",
    "one-time-link": "https://withpersona.com/verify?code=…",
    "one-time-link-short": "https://perso.na/…"
  }
}`

// docVerification is section 5.5's example GET /verifications/ver_... response.
const docVerification = `{"data":{"type":"verification/government-id","id":"ver_ABC123",
  "attributes":{"status":"passed","created-at":"2024-03-20T21:22:25.000Z","created-at-ts":1710969745,
    "submitted-at":"2024-03-20T21:22:25.000Z","submitted-at-ts":1710969745,
    "completed-at":"2024-03-20T21:22:31.000Z","completed-at-ts":1710969751,
    "country-code":"US","checks":[{"name":"id_expired_detection","status":"passed","reasons":[],"requirement":"required","metadata":{}}],
    "id-class":"dl","name-first":"JANE","name-last":"DOE","birthdate":"1990-01-01","identification-number":"Y123ABC"},
  "relationships":{"inquiry":{"data":{"type":"inquiry","id":"inq_ABC123"}}}}}`
