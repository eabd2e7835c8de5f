package model

// Actor is who does something: a staff member with the role the rules check, or the system
// (ID 0) for webhooks, the reconciler and workers.
type Actor struct {
	ID   int64
	Name string
	Role Role
}

// System is the actor for webhooks, the reconciler and workers.
var System = Actor{Name: "Linkdesk"}
