package match

import (
	"errors"
	"strings"
	"testing"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	notificationv1 "weir.dev/api/notification/v1"
)

type src = notificationv1.CrossNamespaceObjectReference

func alert(edit func(*notificationv1.AlertSpec)) *notificationv1.Alert {
	a := &notificationv1.Alert{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "a"},
		Spec: notificationv1.AlertSpec{
			EventSeverity: "info",
			EventSources:  []src{{Kind: "GitRepository", Name: "*"}},
		},
	}
	if edit != nil {
		edit(&a.Spec)
	}
	return a
}

func ev(kind, ns, name, severity, msg string) *eventv1.Event {
	return &eventv1.Event{
		InvolvedObject: corev1.ObjectReference{APIVersion: "source.weir.dev/v1", Kind: kind, Namespace: ns, Name: name},
		Severity:       severity, Message: msg, Reason: "r",
	}
}

func TestMatches(t *testing.T) {
	web := func() (map[string]string, error) { return map[string]string{"app": "web", "tier": "front"}, nil }
	noLabels := func() (map[string]string, error) { return nil, errors.New("not found") }
	cases := []struct {
		name   string
		alert  *notificationv1.Alert
		event  *eventv1.Event
		labels LabelsFunc
		cross  bool
		want   bool
	}{
		{name: "kind and any name", alert: alert(nil), event: ev("GitRepository", "apps", "x", "info", "m"), want: true},
		{name: "other kind", alert: alert(nil), event: ev("HelmChart", "apps", "x", "info", "m")},
		{name: "exact name", alert: alert(func(s *notificationv1.AlertSpec) { s.EventSources = []src{{Kind: "GitRepository", Name: "x"}} }),
			event: ev("GitRepository", "apps", "x", "info", "m"), want: true},
		{name: "other name", alert: alert(func(s *notificationv1.AlertSpec) { s.EventSources = []src{{Kind: "GitRepository", Name: "x"}} }),
			event: ev("GitRepository", "apps", "y", "info", "m")},
		{name: "name wildcard prefix", alert: alert(func(s *notificationv1.AlertSpec) { s.EventSources = []src{{Kind: "GitRepository", Name: "web-*"}} }),
			event: ev("GitRepository", "apps", "web-prod", "info", "m"), want: true},
		{name: "name wildcard misses", alert: alert(func(s *notificationv1.AlertSpec) { s.EventSources = []src{{Kind: "GitRepository", Name: "web-*"}} }),
			event: ev("GitRepository", "apps", "api-prod", "info", "m")},
		{name: "second source matches", alert: alert(func(s *notificationv1.AlertSpec) {
			s.EventSources = []src{{Kind: "HelmChart", Name: "*"}, {Kind: "Kustomization", Name: "apps"}}
		}), event: ev("Kustomization", "apps", "apps", "info", "m"), want: true},
		{name: "labels match", alert: alert(func(s *notificationv1.AlertSpec) {
			s.EventSources = []src{{Kind: "GitRepository", Name: "*", MatchLabels: map[string]string{"app": "web"}}}
		}), event: ev("GitRepository", "apps", "x", "info", "m"), labels: web, want: true},
		{name: "labels differ", alert: alert(func(s *notificationv1.AlertSpec) {
			s.EventSources = []src{{Kind: "GitRepository", Name: "*", MatchLabels: map[string]string{"app": "api"}}}
		}), event: ev("GitRepository", "apps", "x", "info", "m"), labels: web},
		{name: "labels unknown", alert: alert(func(s *notificationv1.AlertSpec) {
			s.EventSources = []src{{Kind: "GitRepository", Name: "*", MatchLabels: map[string]string{"app": "web"}}}
		}), event: ev("GitRepository", "apps", "x", "info", "m"), labels: noLabels},
		{name: "error alert drops info", alert: alert(func(s *notificationv1.AlertSpec) { s.EventSeverity = "error" }),
			event: ev("GitRepository", "apps", "x", "info", "m")},
		{name: "error alert keeps errors", alert: alert(func(s *notificationv1.AlertSpec) { s.EventSeverity = "error" }),
			event: ev("GitRepository", "apps", "x", "error", "m"), want: true},
		{name: "info alert keeps errors", alert: alert(nil), event: ev("GitRepository", "apps", "x", "error", "m"), want: true},
		{name: "inclusion matches", alert: alert(func(s *notificationv1.AlertSpec) { s.InclusionList = []string{"^nope", "stored .*@sha1"} }),
			event: ev("GitRepository", "apps", "x", "info", "stored main@sha1:abc"), want: true},
		{name: "inclusion misses", alert: alert(func(s *notificationv1.AlertSpec) { s.InclusionList = []string{"^failed"} }),
			event: ev("GitRepository", "apps", "x", "info", "stored main@sha1:abc")},
		{name: "exclusion wins over inclusion", alert: alert(func(s *notificationv1.AlertSpec) {
			s.InclusionList, s.ExclusionList = []string{"stored"}, []string{"no changes"}
		}), event: ev("GitRepository", "apps", "x", "info", "stored: no changes")},
		{name: "suspended", alert: alert(func(s *notificationv1.AlertSpec) { s.Suspend = true }), event: ev("GitRepository", "apps", "x", "info", "m")},
		{name: "other namespace by default", alert: alert(nil), event: ev("GitRepository", "other", "x", "info", "m")},
		{name: "named namespace, cross allowed", alert: alert(func(s *notificationv1.AlertSpec) {
			s.EventSources = []src{{Kind: "GitRepository", Name: "*", Namespace: "other"}}
		}), event: ev("GitRepository", "other", "x", "info", "m"), cross: true, want: true},
		{name: "named namespace, cross refused", alert: alert(func(s *notificationv1.AlertSpec) {
			s.EventSources = []src{{Kind: "GitRepository", Name: "*", Namespace: "other"}}
		}), event: ev("GitRepository", "other", "x", "info", "m")},
		{name: "every namespace", alert: alert(func(s *notificationv1.AlertSpec) {
			s.EventSources = []src{{Kind: "GitRepository", Name: "*", Namespace: "*"}}
		}), event: ev("GitRepository", "z", "x", "info", "m"), cross: true, want: true},
		{name: "apiVersion group matches any version", alert: alert(func(s *notificationv1.AlertSpec) {
			s.EventSources = []src{{APIVersion: "source.weir.dev/v2", Kind: "GitRepository", Name: "*"}}
		}), event: ev("GitRepository", "apps", "x", "info", "m"), want: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compile(tc.alert)
			if err != nil {
				t.Fatal(err)
			}
			labels := tc.labels
			calls := 0
			if labels == nil {
				labels = func() (map[string]string, error) { calls++; return nil, nil }
			}
			if got := c.Matches(tc.event, labels, tc.cross); got != tc.want {
				t.Fatalf("Matches = %v, want %v", got, tc.want)
			}
			if tc.labels == nil && calls > 0 {
				t.Fatalf("labels were fetched without a source asking for them")
			}
		})
	}
}

func TestCompileNamesTheBadExpression(t *testing.T) {
	_, err := Compile(alert(func(s *notificationv1.AlertSpec) { s.ExclusionList = []string{"ok", "a(b"} }))
	if err == nil || !strings.Contains(err.Error(), "spec.exclusionList[1]") || !strings.Contains(err.Error(), `"a(b"`) {
		t.Fatalf("got %v", err)
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "", true}, {"a", "a", true}, {"a", "b", false}, {"a*", "abc", true}, {"*c", "abc", true},
		{"a*c", "abc", true}, {"a*c", "ab", false}, {"a*b*c", "a-b-c", true}, {"a*b*c", "a-c-b", false},
		{"a*a", "a", false}, {"*-prod-*", "web-prod-1", true},
	} {
		if got := Glob(tc.pattern, tc.name); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v", tc.pattern, tc.name, got)
		}
	}
}
