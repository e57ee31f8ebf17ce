// Package match decides which Alerts an event reaches: by the involved object's kind, name
// (with `*` wildcards), namespace and labels, by severity, and by regular expressions over the
// message. It is pure: labels are fetched only when a source asks for them, by a function the
// caller passes.
package match
