package model

// Role is a staff member's role.
type Role string

// Roles, from most to least powerful.
const (
	Admin    Role = "admin"
	Reviewer Role = "reviewer"
	Agent    Role = "agent"
	Viewer   Role = "viewer"
)

// Roles are the known roles, most powerful first.
var Roles = []Role{Admin, Reviewer, Agent, Viewer}

// ParseRole reads a role from a form or the command line; ok is false for anything else.
func ParseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case Admin, Reviewer, Agent, Viewer:
		return r, true
	}
	return "", false
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	_, ok := ParseRole(string(r))
	return ok
}

// Level orders roles for access checks: viewer 1, agent 2, reviewer 3 (an agent who also
// decides inquiries), admin 4; an unknown role 0.
func (r Role) Level() int {
	switch r {
	case Admin:
		return 4
	case Reviewer:
		return 3
	case Agent:
		return 2
	case Viewer:
		return 1
	}
	return 0
}
