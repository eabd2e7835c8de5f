// Package bulk creates and hands out many inquiries from a CSV file: it reads and checks the
// file with the New inquiry form's rules (a dry run that sends nothing), stores the job durably
// in SQLite, and works through it in the background within Persona's rate limit, through the
// inquiry service's own create and send paths.
package bulk

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits of one file, refused in words beyond them.
const (
	MaxFileBytes = 10 << 20
	MaxRows      = 10000
	// MaxColumns caps the header row: a few hundred columns is any real export; more only
	// costs the check time and the page a field to map per unknown column.
	MaxColumns = 500
)

// Column keys besides inquiry.FieldKeys.
const (
	ColReference = "reference_id"
	ColNote      = "note"
	ColTags      = "tags"
)

// Columns are the keys a header can map to, in the order the page offers them.
var Columns = []string{
	ColReference, "name-first", "name-middle", "name-last", "birthdate", "email-address", "phone-number",
	"address-street-1", "address-street-2", "address-city", "address-subdivision", "address-postal-code",
	"address-country-code", ColNote, ColTags,
}

// SampleCSV is a file to start from, offered on the Bulk send page: every column, two people.
const SampleCSV = "reference_id,first_name,middle_name,last_name,birthdate,email,phone,street,street2,city,state,postal_code,country,note,tags\r\n" +
	"cust-1001,Ada,,Lovelace,1985-12-10,ada@example.com,+442071234567,12 St James's Square,,London,,SW1Y 4JH,United Kingdom,Signed up online,\"new,web\"\r\n" +
	"cust-1002,José,Luis,Müller-García,1990-04-01,jose@example.com,+4930123456,Hauptstraße 5,Apt 2,Berlin,Berlin,10115,DE,,\r\n"

// ColumnLabels names each column for people.
var ColumnLabels = map[string]string{
	ColReference: "Reference ID", "name-first": "First name", "name-middle": "Middle name", "name-last": "Last name",
	"birthdate": "Birthdate", "email-address": "Email", "phone-number": "Phone", "address-street-1": "Street",
	"address-street-2": "Street (line 2)", "address-city": "City", "address-subdivision": "State or region",
	"address-postal-code": "Postal code", "address-country-code": "Country", ColNote: "Note", ColTags: "Tags",
}

// headerNames are the spellings a header may use, after squash (lower case, letters and digits only).
var headerNames = map[string]string{}

func init() {
	for key, names := range map[string][]string{
		ColReference:           {"referenceid", "reference", "ref", "refid", "externalid", "customerid"},
		"name-first":           {"namefirst", "firstname", "first", "givenname", "forename"},
		"name-middle":          {"namemiddle", "middlename", "middle"},
		"name-last":            {"namelast", "lastname", "last", "surname", "familyname"},
		"birthdate":            {"birthdate", "dateofbirth", "dob", "birthday"},
		"email-address":        {"emailaddress", "email", "mail", "emailaddr"},
		"phone-number":         {"phonenumber", "phone", "mobile", "telephone", "tel", "mobilenumber"},
		"address-street-1":     {"addressstreet1", "street", "street1", "address", "address1", "addressline1"},
		"address-street-2":     {"addressstreet2", "street2", "address2", "addressline2"},
		"address-city":         {"addresscity", "city", "town"},
		"address-subdivision":  {"addresssubdivision", "subdivision", "state", "region", "province", "county"},
		"address-postal-code":  {"addresspostalcode", "postalcode", "postcode", "zip", "zipcode"},
		"address-country-code": {"addresscountrycode", "countrycode", "country"},
		ColNote:                {"note", "notes", "comment", "comments"},
		ColTags:                {"tags", "tag"},
	} {
		for _, n := range names {
			headerNames[n] = key
		}
	}
}

// squash reduces a header to lower-case letters and digits ("E-mail Address" → "emailaddress"),
// so spellings differing in case, spaces and punctuation match.
func squash(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// File is a parsed CSV file: its header, which column each header maps to, and its rows.
type File struct {
	Headers []string
	Map     []string // Map[i] is the column key of Headers[i], "" when not used
	Unknown []string // headers matched to no column (the page offers to map them)
	Rows    []Record
	Comma   rune
}

// Record is one data row by column key, with its line in the file (the header is line 1).
type Record struct {
	Line   int
	Values map[string]string
}

// ErrEmpty means the file has no header row.
var ErrEmpty = errors.New("the file is empty: it needs a header row naming the columns, then one row per person")

// Parse reads a CSV file: UTF-8 with or without a byte-order mark, comma- or
// semicolon-separated (whichever the header row uses), columns matched by header. mapping
// assigns a column key to headers Parse does not recognise (header → key, "" to ignore it).
// Errors are in words, with the line where it helps.
func Parse(r io.Reader, mapping map[string]string) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the file: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("the file is larger than %d MB: split it into smaller files", MaxFileBytes>>20)
	}
	if data, err = fromUTF16(data); err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	// Old Mac files end lines with CR alone, which encoding/csv does not take as a line end.
	if !bytes.Contains(data, []byte("\n")) {
		data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	}
	if !utf8.Valid(data) {
		return nil, errors.New("the file is not UTF-8 text: in your spreadsheet choose Save as → \"CSV UTF-8\"")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrEmpty
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	f := &File{Comma: ','}
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		f.Comma = ';'
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = f.Comma
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, ErrEmpty
	}
	if err != nil {
		return nil, csvError(err)
	}
	if len(head) > MaxColumns {
		return nil, fmt.Errorf("the header row has %d columns; Linkdesk reads at most %d: delete the columns you do not need", len(head), MaxColumns)
	}
	f.Headers = head
	f.Map = make([]string, len(head))
	used := map[string]string{}
	for i, h := range head {
		h = strings.TrimSpace(h)
		f.Headers[i] = h
		key, ok := mapping[h]
		if !ok {
			key = headerNames[squash(h)]
		}
		if key == "" {
			if !ok && h != "" {
				f.Unknown = append(f.Unknown, h)
			}
			continue
		}
		if ColumnLabels[key] == "" {
			return nil, fmt.Errorf("column %q cannot be used as %q", h, key)
		}
		if prev, dup := used[key]; dup {
			return nil, fmt.Errorf("columns %q and %q both hold the %s: keep one of them", prev, h, strings.ToLower(ColumnLabels[key]))
		}
		used[key] = h
		f.Map[i] = key
	}
	// A header of nothing but unknown names (a file from another system, in another language)
	// goes to the mapping step; Known says so to callers without one.
	if len(used) == 0 && len(f.Unknown) == 0 {
		return nil, ErrNoKnownColumn(head)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		row := Record{Line: line, Values: map[string]string{}}
		blank := true
		for i, v := range rec {
			v = strings.TrimSpace(v)
			if v != "" {
				blank = false
			}
			if i < len(f.Map) && f.Map[i] != "" && v != "" {
				row.Values[f.Map[i]] = v
			}
		}
		if blank {
			continue
		}
		if len(f.Rows) == MaxRows {
			return nil, fmt.Errorf("the file has more than %d rows: split it into smaller files", MaxRows)
		}
		f.Rows = append(f.Rows, row)
	}
	if len(f.Rows) == 0 {
		return nil, errors.New("the file has a header row but no rows of people")
	}
	return f, nil
}

// ErrNoKnownColumn says that no column of the header row is one Linkdesk knows.
func ErrNoKnownColumn(head []string) error {
	return fmt.Errorf("no column of the header row (%s) is one Linkdesk knows: name them like reference_id, first_name, last_name, email", strings.Join(head, ", "))
}

// Known reports whether any column is matched to one Linkdesk knows.
func (f *File) Known() bool {
	return slices.ContainsFunc(f.Map, func(k string) bool { return k != "" })
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d of the file is not valid CSV (%v): check its quotes", pe.Line, pe.Err)
	}
	return fmt.Errorf("read the file: %w", err)
}

// fromUTF16 decodes a UTF-16 file (Excel's "Unicode text", some exports) to UTF-8: by its
// byte-order mark, or without one when every other byte of its start is NUL (ASCII text in
// UTF-16 is otherwise valid UTF-8, each character followed or preceded by a NUL). Other data
// is returned as it is.
func fromUTF16(data []byte) ([]byte, error) {
	var big bool
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		data = data[2:]
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		data, big = data[2:], true
	default:
		head := data[:min(len(data), 512)&^1]
		if len(head) < 4 {
			return data, nil
		}
		var even, odd int // NUL bytes at even and odd offsets
		for i, c := range head {
			if c == 0 && i%2 == 0 {
				even++
			} else if c == 0 {
				odd++
			}
		}
		pairs := len(head) / 2
		switch {
		case odd*10 >= pairs*9 && even == 0:
		case even*10 >= pairs*9 && odd == 0:
			big = true
		default:
			return data, nil
		}
	}
	if len(data)%2 != 0 {
		return nil, errors.New("the file looks like UTF-16 text but ends halfway through a character: in your spreadsheet choose Save as → \"CSV UTF-8\"")
	}
	units := make([]uint16, len(data)/2)
	for i := range units {
		if big {
			units[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
		} else {
			units[i] = uint16(data[2*i+1])<<8 | uint16(data[2*i])
		}
	}
	return []byte(string(utf16.Decode(units))), nil
}
