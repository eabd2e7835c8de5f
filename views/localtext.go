package views

import (
	"regexp"
	"time"
)

// whenText finds what When writes (whenLayout): sentences built in handlers carry their times so.
var whenText = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC`)

// timedPart is a run of a sentence: words, or a time to show in the viewer's zone.
type timedPart struct {
	Words string
	At    time.Time
}

// timedParts splits a sentence at the times When wrote into it.
func timedParts(s string) []timedPart {
	var out []timedPart
	rest := 0
	for _, m := range whenText.FindAllStringIndex(s, -1) {
		at, err := time.Parse(whenLayout, s[m[0]:m[1]])
		if err != nil {
			continue
		}
		if m[0] > rest {
			out = append(out, timedPart{Words: s[rest:m[0]]})
		}
		out = append(out, timedPart{At: at})
		rest = m[1]
	}
	if rest < len(s) {
		out = append(out, timedPart{Words: s[rest:]})
	}
	return out
}
