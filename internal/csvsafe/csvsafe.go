// Package csvsafe is the one rule for the CSV files Linkdesk hands out (the list's export, bulk
// send's problem rows and results): they start with a byte-order mark, and no cell runs as a
// formula when a spreadsheet opens them.
package csvsafe

import "strings"

// BOM starts every CSV download: without it Excel reads UTF-8 in the machine's code page,
// turning "María" into "MarÃ­a"; with it, as UTF-8.
const BOM = "\ufeff"

// Cell keeps a spreadsheet from running a cell as a formula: one that starts with =, +, -, @, a
// tab or a carriage return gets a leading apostrophe (OWASP's rule for CSV injection). Names
// and emails are typed by people outside the company, and ids and statuses arrive from
// webhooks and the API, so every cell goes through it.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Row applies Cell to every cell of a record, so no column is forgotten. It changes cells in
// place and returns them.
func Row(cells ...string) []string {
	for i, c := range cells {
		cells[i] = Cell(c)
	}
	return cells
}
