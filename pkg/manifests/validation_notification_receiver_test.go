package manifests_test

import (
	"strings"
	"testing"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
)

// notifReceiver returns a valid generic Receiver changed by edit.
func notifReceiver(edit func(*notificationv1.ReceiverSpec)) *notificationv1.Receiver {
	r := &notificationv1.Receiver{Spec: notificationv1.ReceiverSpec{
		Type:      notificationv1.GenericReceiver,
		Resources: []notificationv1.CrossNamespaceObjectReference{{Kind: "GitRepository", Name: "app"}},
		SecretRef: meta.LocalObjectReference{Name: "webhook-token"},
	}}
	if edit != nil {
		edit(&r.Spec)
	}
	return r
}

const receiverWildcardNeedsFilter = "spec.resources: name '*' requires matchLabels, or spec.resourceFilter, to narrow it"

// TestReceiverValidation: every OpenAPI and CEL rule of Receiver rejects a bad spec with its
// message and accepts a good one.
func TestReceiverValidation(t *testing.T) {
	type ref = notificationv1.CrossNamespaceObjectReference
	cases := []notificationCase{
		{name: "unsupported type names the supported ones", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) { s.Type = "ecr" }),
			wantErr: []string{`spec.type: Unsupported value: "ecr"`, `supported values: "generic", "generic-hmac", "github", "gitlab", "bitbucket", "harbor", "dockerhub", "quay", "nexus", "cdevents", "generic-oidc", "gcr", "acr"`}},

		{name: "no resources", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) { s.Resources = []ref{} }),
			wantErr: []string{"spec.resources", "at least 1 items"}},
		{name: "too many resources", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) { s.Resources = notifSources(257) }),
			wantErr: []string{"spec.resources", "Too many"}},
		{name: "resources at the limit", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) { s.Resources = notifSources(256) })},
		{name: "resource kind outside Weir", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) { s.Resources = []ref{{Kind: "ImageRepository", Name: "app"}} }),
			wantErr: []string{`spec.resources[0].kind: Unsupported value: "ImageRepository"`}},
		{name: "resource with Flux apiVersion", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) {
			s.Resources = []ref{{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Name: "app"}}
		}), wantErr: []string{"spec.resources[0]", "apiVersion must be in the kind's Weir group"}},

		{name: "wildcard alone", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) {
			s.Resources = []ref{{Kind: "OCIRepository", Name: "app"}, {Kind: "OCIRepository", Name: "*"}}
		}),
			wantErr: []string{receiverWildcardNeedsFilter}},
		{name: "wildcard with matchLabels", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) {
			s.Resources = []ref{{Kind: "OCIRepository", Name: "*", MatchLabels: map[string]string{"app": "web"}}}
		})},
		{name: "wildcard with resourceFilter", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) {
			s.Resources, s.ResourceFilter = []ref{{Kind: "OCIRepository", Name: "*"}}, `req.tag.contains(res.metadata.name)`
		})},

		{name: "resourceFilter too long", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) { s.ResourceFilter = strings.Repeat("f", 4097) }),
			wantErr: []string{"spec.resourceFilter", "Too long"}},

		{name: "too many events", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) {
			s.Type, s.Events = notificationv1.GitHubReceiver, notifStrings(65, 4)
		}),
			wantErr: []string{"spec.events", "Too many"}},
		{name: "event too long", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) {
			s.Type, s.Events = notificationv1.GitHubReceiver, notifStrings(1, 257)
		}),
			wantErr: []string{"spec.events[0]", "Too long"}},
		{name: "events at the limit", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) {
			s.Type, s.Events = notificationv1.GitHubReceiver, notifStrings(64, 256)
		})},
		{name: "events on a generic receiver are accepted as in Flux", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) { s.Events = []string{"push"} })},

		{name: "empty secretRef name", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) { s.SecretRef.Name = "" }), wantErr: []string{"spec.secretRef.name"}},

		{name: "interval in days", obj: notifWithField(notifReceiver(nil), "1d", "spec", "interval"), wantErr: []string{"spec.interval", "should match"}},
		{name: "interval set", obj: notifReceiver(func(s *notificationv1.ReceiverSpec) { s.Interval = notifDuration("1h") })},
	}
	for _, typ := range notificationv1.ReceiverTypes {
		cases = append(cases, notificationCase{name: "type " + typ, obj: notifReceiver(func(s *notificationv1.ReceiverSpec) { s.Type = typ })})
	}
	runNotificationCases(t, cases)
}
