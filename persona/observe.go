package persona

import "strings"

// opName is a call's method and path with every id replaced by {id}, so a metric labelled with
// it has one series per endpoint rather than one per inquiry.
func opName(method, path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		for _, p := range knownPrefixes {
			if strings.HasPrefix(s, p) && len(s) > len(p) {
				segs[i] = "{id}"
				break
			}
		}
	}
	return method + " " + strings.Join(segs, "/")
}
