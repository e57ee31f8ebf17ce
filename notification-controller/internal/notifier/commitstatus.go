package notifier

import (
	"errors"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
)

// statusState is the outcome a commit status reports, mapped by each API to its own words.
type statusState int

const (
	statePending statusState = iota
	stateSuccess
	stateFailure
)

// progressingReason is the reason controllers give events while work is under way.
const progressingReason = "Progressing"

// commitStatus is what one event says about one commit.
type commitStatus struct {
	SHA string
	// Key identifies the object, so each object has its own status on the commit:
	// "<kind>/<namespace>/<name>", the kind in lower case.
	Key         string
	State       statusState
	Description string
}

// newCommitStatus returns the status an event sets, or false when it carries no commit.
// Error events fail the commit, Progressing events mark it pending, other info events pass it.
func newCommitStatus(e *Event, maxDescription int) (commitStatus, bool) {
	sha, ok := CommitOf(&e.Event)
	if !ok {
		return commitStatus{}, false
	}
	o := e.InvolvedObject
	s := commitStatus{
		SHA:         sha,
		Key:         strings.ToLower(o.Kind) + "/" + o.Namespace + "/" + o.Name,
		State:       stateSuccess,
		Description: truncate(e.Message, maxDescription),
	}
	switch {
	case e.Severity == eventv1.EventSeverityError:
		s.State = stateFailure
	case e.Reason == progressingReason:
		s.State = statePending
	}
	return s, true
}

// errInvalidAddress is returned when an address does not parse; it never quotes the address.
var errInvalidAddress = errors.New("the address is not a valid URL")

// bearerOrBasic returns the auth of APIs that take either an access token (Bearer) or a
// `user:password` pair in the token (basic).
func bearerOrBasic(token string) (header, user, password string) {
	if u, p, ok := strings.Cut(token, ":"); ok {
		return "", u, p
	}
	return "Bearer " + token, "", ""
}
