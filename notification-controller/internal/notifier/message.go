package notifier

import (
	"fmt"
	"sort"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
)

// message is what every chat notifier shows, whatever its markup: the object, the severity,
// the reason, the text, the revision (linked to its commit when possible) and the rest of the
// metadata.
type message struct {
	// Title names the object: "Kustomization weir-system/apps".
	Title string
	// Error is true for error events.
	Error bool
	// Severity is the event's severity, "info" or "error".
	Severity string
	Reason   string
	Text     string
	// Summary is the Alert's summary, when it set one.
	Summary string
	// Revision and CommitURL: the source revision and its commit page, either may be empty.
	Revision, CommitURL string
	// Fields are the other metadata, sorted by key.
	Fields []field
}

type field struct{ Key, Value string }

func newMessage(e *Event) message {
	o := e.InvolvedObject
	m := message{
		Title:     fmt.Sprintf("%s %s/%s", o.Kind, o.Namespace, o.Name),
		Error:     e.Severity == eventv1.EventSeverityError,
		Severity:  e.Severity,
		Reason:    e.Reason,
		Text:      e.Message,
		Summary:   e.Metadata["summary"],
		Revision:  revisionOf(&e.Event),
		CommitURL: e.CommitURL,
	}
	for k, v := range e.Metadata {
		if k == "summary" || (v == m.Revision && isRevisionKey(k)) {
			continue
		}
		m.Fields = append(m.Fields, field{k, v})
	}
	sort.Slice(m.Fields, func(i, j int) bool { return m.Fields[i].Key < m.Fields[j].Key })
	return m
}

// revisionOf returns the revision an event is about: its revision metadata, else its origin
// revision, else its commit.
func revisionOf(e *eventv1.Event) string {
	for _, k := range []string{eventv1.MetaRevisionKey, eventv1.MetaOriginRevisionKey, eventv1.MetaCommitKey} {
		if v := e.Metadata[k]; v != "" {
			return v
		}
	}
	return ""
}

func isRevisionKey(k string) bool {
	return k == eventv1.MetaRevisionKey || k == eventv1.MetaOriginRevisionKey || k == eventv1.MetaCommitKey
}

// colour returns the conventional colour of the severity as #rrggbb.
func (m message) colour() string {
	if m.Error {
		return "#d0021b"
	}
	return "#2eb886"
}

// truncate shortens s to at most n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
