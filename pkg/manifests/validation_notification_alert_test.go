package manifests_test

import (
	"fmt"
	"strings"
	"testing"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
)

// notifAlert returns a valid Alert changed by edit.
func notifAlert(edit func(*notificationv1.AlertSpec)) *notificationv1.Alert {
	a := &notificationv1.Alert{Spec: notificationv1.AlertSpec{
		ProviderRef:  meta.LocalObjectReference{Name: "slack"},
		EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "GitRepository", Name: "app"}},
	}}
	if edit != nil {
		edit(&a.Spec)
	}
	return a
}

// notifAlertSource returns a valid Alert whose only event source is ref.
func notifAlertSource(ref notificationv1.CrossNamespaceObjectReference) *notificationv1.Alert {
	return notifAlert(func(s *notificationv1.AlertSpec) {
		s.EventSources = []notificationv1.CrossNamespaceObjectReference{ref}
	})
}

func notifSources(n int) []notificationv1.CrossNamespaceObjectReference {
	refs := make([]notificationv1.CrossNamespaceObjectReference, n)
	for i := range refs {
		refs[i] = notificationv1.CrossNamespaceObjectReference{Kind: "HelmRelease", Name: fmt.Sprintf("app-%d", i), Namespace: "team-a"}
	}
	return refs
}

func notifStrings(n, size int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = strings.Repeat("x", size)
	}
	return s
}

// TestAlertValidation: every OpenAPI rule of Alert rejects a bad spec and accepts a good one.
func TestAlertValidation(t *testing.T) {
	runNotificationCases(t, []notificationCase{
		{name: "unsupported severity", obj: notifAlert(func(s *notificationv1.AlertSpec) { s.EventSeverity = "warning" }),
			wantErr: []string{`spec.eventSeverity: Unsupported value: "warning"`, `supported values: "info", "error"`}},
		{name: "severity error", obj: notifAlert(func(s *notificationv1.AlertSpec) { s.EventSeverity = notificationv1.EventSeverityError })},

		{name: "empty providerRef name", obj: notifAlert(func(s *notificationv1.AlertSpec) { s.ProviderRef.Name = "" }), wantErr: []string{"spec.providerRef.name"}},

		{name: "no event sources", obj: notifAlert(func(s *notificationv1.AlertSpec) { s.EventSources = []notificationv1.CrossNamespaceObjectReference{} }),
			wantErr: []string{"spec.eventSources", "at least 1 items"}},
		{name: "too many event sources", obj: notifAlert(func(s *notificationv1.AlertSpec) { s.EventSources = notifSources(257) }),
			wantErr: []string{"spec.eventSources", "Too many"}},
		{name: "event sources at the limit", obj: notifAlert(func(s *notificationv1.AlertSpec) { s.EventSources = notifSources(256) })},

		{name: "too many inclusions", obj: notifAlert(func(s *notificationv1.AlertSpec) { s.InclusionList = notifStrings(65, 8) }),
			wantErr: []string{"spec.inclusionList", "Too many"}},
		{name: "inclusion too long", obj: notifAlert(func(s *notificationv1.AlertSpec) { s.InclusionList = notifStrings(1, 1025) }),
			wantErr: []string{"spec.inclusionList[0]", "Too long"}},
		{name: "too many exclusions", obj: notifAlert(func(s *notificationv1.AlertSpec) { s.ExclusionList = notifStrings(65, 8) }),
			wantErr: []string{"spec.exclusionList", "Too many"}},
		{name: "exclusion too long", obj: notifAlert(func(s *notificationv1.AlertSpec) { s.ExclusionList = notifStrings(1, 1025) }),
			wantErr: []string{"spec.exclusionList[0]", "Too long"}},
		{name: "lists at the limit", obj: notifAlert(func(s *notificationv1.AlertSpec) {
			s.InclusionList, s.ExclusionList = notifStrings(64, 1024), notifStrings(64, 1024)
		})},

		{name: "summary too long", obj: notifAlert(func(s *notificationv1.AlertSpec) { s.Summary = strings.Repeat("s", 256) }),
			wantErr: []string{"spec.summary", "Too long"}},
		{name: "summary at the limit and metadata", obj: notifAlert(func(s *notificationv1.AlertSpec) {
			s.Summary, s.EventMetadata = strings.Repeat("s", 255), map[string]string{"cluster": "prod-eu"}
		})},

		{name: "interval in days", obj: notifWithField(notifAlert(nil), "1d", "spec", "interval"), wantErr: []string{"spec.interval", "should match"}},
		{name: "interval set", obj: notifAlert(func(s *notificationv1.AlertSpec) { s.Interval = notifDuration("5m") })},
	})
}

// TestCrossNamespaceObjectReferenceValidation: the rules of the reference Alerts and Receivers
// share, exercised through Alert.spec.eventSources.
func TestCrossNamespaceObjectReferenceValidation(t *testing.T) {
	type ref = notificationv1.CrossNamespaceObjectReference
	const path = "spec.eventSources[0]"
	cases := []notificationCase{
		{name: "kind outside Weir names the supported ones", obj: notifAlertSource(ref{Kind: "Bucket", Name: "app"}),
			wantErr: []string{path + `.kind: Unsupported value: "Bucket"`, `supported values: "GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Kustomization", "HelmRelease"`}},
		{name: "empty name", obj: notifAlertSource(ref{Kind: "GitRepository"}), wantErr: []string{path + ".name"}},
		{name: "name too long", obj: notifAlertSource(ref{Kind: "GitRepository", Name: strings.Repeat("n", 254)}), wantErr: []string{path + ".name", "Too long"}},
		{name: "partial wildcard", obj: notifAlertSource(ref{Kind: "GitRepository", Name: "app-*"}),
			wantErr: []string{path, "name must be '*' or an exact object name"}},
		{name: "wildcard name", obj: notifAlertSource(ref{Kind: "GitRepository", Name: "*"})},

		{name: "matchLabels with a name", obj: notifAlertSource(ref{Kind: "Kustomization", Name: "app", MatchLabels: map[string]string{"team": "a"}}),
			wantErr: []string{path, "matchLabels requires name to be '*'"}},
		{name: "matchLabels with wildcard", obj: notifAlertSource(ref{Kind: "Kustomization", Name: "*", MatchLabels: map[string]string{"team": "a"}})},

		{name: "empty namespace string", obj: notifWithField(notifAlert(nil), []any{map[string]any{"kind": "GitRepository", "name": "app", "namespace": ""}}, "spec", "eventSources"),
			wantErr: []string{path + ".namespace"}},
		{name: "namespace too long", obj: notifAlertSource(ref{Kind: "GitRepository", Name: "app", Namespace: strings.Repeat("n", 64)}),
			wantErr: []string{path + ".namespace", "Too long"}},
		{name: "any namespace with a name", obj: notifAlertSource(ref{Kind: "HelmRelease", Name: "app", Namespace: "*"}),
			wantErr: []string{path, "namespace '*' requires name to be '*'"}},
		{name: "any namespace, any name", obj: notifAlertSource(ref{Kind: "HelmRelease", Name: "*", Namespace: "*"})},
		{name: "other namespace", obj: notifAlertSource(ref{Kind: "HelmRelease", Name: "app", Namespace: "team-b"})},

		{name: "Flux apiVersion", obj: notifAlertSource(ref{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Name: "app"}),
			wantErr: []string{path, "apiVersion must be in the kind's Weir group"}},
		{name: "apiVersion of another group", obj: notifAlertSource(ref{APIVersion: "source.weir.dev/v1", Kind: "Kustomization", Name: "app"}),
			wantErr: []string{path, "apiVersion must be in the kind's Weir group"}},
		{name: "apiVersion too long", obj: notifAlertSource(ref{APIVersion: "source.weir.dev/" + strings.Repeat("v", 240), Kind: "GitRepository", Name: "app"}),
			wantErr: []string{path + ".apiVersion", "Too long"}},
	}
	for kind, apiVersion := range map[string]string{
		"GitRepository": "source.weir.dev/v1", "OCIRepository": "source.weir.dev/v1", "HelmRepository": "source.weir.dev/v1",
		"HelmChart": "source.weir.dev/v1", "Kustomization": "kustomize.weir.dev/v1", "HelmRelease": "helm.weir.dev/v1",
	} {
		cases = append(cases, notificationCase{name: "apiVersion of " + kind, obj: notifAlertSource(ref{APIVersion: apiVersion, Kind: kind, Name: "app"})})
	}
	runNotificationCases(t, cases)
}
