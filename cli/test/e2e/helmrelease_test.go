package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/cli/internal/local"
)

// TestHelmReleaseUpgradesOnNewValues changes the demo HelmRelease's values and follows it to
// a Helm upgrade (a new revision of the same chart in status.history), the changed object in
// the cluster and a notification.
func TestHelmReleaseUpgradesOnNewValues(t *testing.T) {
	ctx := context.Background()
	name := env.Demo.HelmRelease
	hr := &helmv1.HelmRelease{}
	if err := env.Client.Get(ctx, demoKey(name), hr); err != nil {
		t.Fatal(err)
	}
	if len(hr.Status.History) == 0 {
		t.Fatalf("HelmRelease %s has no history", name)
	}
	previous := *hr.Status.History[0]
	before := len(env.Demo.Notifications())

	patch := client.MergeFrom(hr.DeepCopy())
	hr.Spec.Values = &apiextensionsv1.JSON{Raw: []byte(`{"message":"Hello from an upgrade"}`)}
	if err := env.Client.Patch(ctx, hr, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "HelmRelease "+name+" upgraded", func() error {
		if err := env.Client.Get(ctx, demoKey(name), hr); err != nil {
			return err
		}
		if err := readyErr(hr.Status.Conditions, hr.Generation); err != nil {
			return err
		}
		if len(hr.Status.History) == 0 || hr.Status.History[0].Version != previous.Version+1 {
			return fmt.Errorf("history %v, want revision %d first", versions(hr.Status.History), previous.Version+1)
		}
		return nil
	})
	newest := hr.Status.History[0]
	if newest.Status != "deployed" || newest.ChartName != previous.ChartName || newest.ChartVersion != previous.ChartVersion {
		t.Errorf("newest release %+v, want chart %s %s deployed", newest, previous.ChartName, previous.ChartVersion)
	}
	if newest.ConfigDigest == previous.ConfigDigest {
		t.Errorf("the upgrade kept the config digest %s", newest.ConfigDigest)
	}
	waitConfigMap(t, name+"-config", "Hello from an upgrade")
	n := notificationFor(t, before, helmv1.HelmReleaseKind, name, func(n local.Notification) bool {
		return n.Severity == "info" && strings.Contains(n.Reason, "Upgrade")
	})
	t.Logf("notification: %s", n)
}

func versions(history helmv1.Snapshots) []int {
	var v []int
	for _, s := range history {
		v = append(v, s.Version)
	}
	return v
}
