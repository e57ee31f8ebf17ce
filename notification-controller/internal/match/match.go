package match

import (
	"fmt"
	"regexp"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"

	notificationv1 "weir.dev/api/notification/v1"
)

// Alert is an Alert with its regular expressions compiled.
type Alert struct {
	*notificationv1.Alert
	include, exclude []*regexp.Regexp
}

// Compile compiles a's inclusionList and exclusionList. The error names the field and entry
// at fault.
func Compile(a *notificationv1.Alert) (*Alert, error) {
	c := &Alert{Alert: a}
	var err error
	if c.include, err = compileAll("spec.inclusionList", a.Spec.InclusionList); err != nil {
		return nil, err
	}
	if c.exclude, err = compileAll("spec.exclusionList", a.Spec.ExclusionList); err != nil {
		return nil, err
	}
	return c, nil
}

func compileAll(field string, exprs []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(exprs))
	for i, expr := range exprs {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %q is not a valid regular expression: %v", field, i, expr, unwrapSyntax(err))
		}
		out = append(out, re)
	}
	return out, nil
}

// unwrapSyntax drops the "error parsing regexp: " prefix.
func unwrapSyntax(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// LabelsFunc returns the involved object's labels; it is called at most once per event, and
// only when a source selects by labels. An error means "no match".
type LabelsFunc func() (map[string]string, error)

// Matches reports whether e reaches a: a is not suspended, e is severe enough, one of a's
// event sources selects the involved object, and the message passes the inclusion and
// exclusion lists. Unless crossNamespace is true, only objects in a's namespace match.
func (a *Alert) Matches(e *eventv1.Event, labels LabelsFunc, crossNamespace bool) bool {
	if a.Spec.Suspend {
		return false
	}
	if a.Spec.EventSeverity == eventv1.EventSeverityError && e.Severity != eventv1.EventSeverityError {
		return false
	}
	if !crossNamespace && e.InvolvedObject.Namespace != a.Namespace {
		return false
	}
	selected := false
	for _, src := range a.Spec.EventSources {
		if a.selects(src, e, labels) {
			selected = true
			break
		}
	}
	if !selected {
		return false
	}
	if len(a.include) > 0 && !anyMatch(a.include, e.Message) {
		return false
	}
	return !anyMatch(a.exclude, e.Message)
}

// selects reports whether one event source names the involved object.
func (a *Alert) selects(src notificationv1.CrossNamespaceObjectReference, e *eventv1.Event, labels LabelsFunc) bool {
	o := e.InvolvedObject
	if src.Kind != o.Kind {
		return false
	}
	if src.APIVersion != "" && group(src.APIVersion) != group(o.APIVersion) {
		return false
	}
	ns := src.Namespace
	if ns == "" {
		ns = a.Namespace
	}
	if ns != "*" && ns != o.Namespace {
		return false
	}
	if !Glob(src.Name, o.Name) {
		return false
	}
	if len(src.MatchLabels) == 0 {
		return true
	}
	have, err := labels()
	if err != nil {
		return false
	}
	for k, v := range src.MatchLabels {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// group returns the API group of an apiVersion ("" for the core group).
func group(apiVersion string) string {
	g, _, found := strings.Cut(apiVersion, "/")
	if !found {
		return ""
	}
	return g
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// Glob reports whether name matches pattern, where `*` stands for any run of characters and
// every other character for itself.
func Glob(pattern, name string) bool {
	if pattern == "*" {
		return true
	}
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return strings.HasSuffix(name, last)
}
