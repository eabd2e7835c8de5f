package views

// adminNav lists the admin-only pages: path, key, label. Pages are added here as they exist.
var adminNav = [][3]string{
	{"/staff", "staff", "Staff"},
	{"/templates", "templates", "Templates"},
	{"/settings", "settings", "Settings"},
	{"/outbox", "outbox", "Outbox"},
	{"/audit", "audit", "Audit"},
	{"/webhooks", "webhooks", "Webhooks"},
}

// htmxConfig lets 422 responses (form errors) swap in, keeps htmx from adding inline styles
// (blocked by our Content-Security-Policy) and from evaluating code.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},` +
	`{"code":"422","swap":true},{"code":"[45]..","swap":false,"error":true}]}`
