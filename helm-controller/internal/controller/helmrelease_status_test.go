package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	helmrelease "helm.sh/helm/v3/pkg/release"
	helmtime "helm.sh/helm/v3/pkg/time"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/steps"
)

// These table tests cover the pure decisions; the *_test.go files next to them prove the
// behaviour against the real API server.

func TestDecide(t *testing.T) {
	retries := func(install, upgrade int) func(*helmv1.HelmRelease) {
		return func(hr *helmv1.HelmRelease) {
			hr.Spec.Install = &helmv1.Install{Remediation: &helmv1.InstallRemediation{Retries: install}}
			hr.Spec.Upgrade = &helmv1.Upgrade{Remediation: &helmv1.UpgradeRemediation{Retries: upgrade}}
		}
	}
	failed := func(install, upgrade int64, last helmv1.ReleaseAction) func(*helmv1.HelmRelease) {
		return func(hr *helmv1.HelmRelease) {
			hr.Status.InstallFailures, hr.Status.UpgradeFailures = install, upgrade
			hr.Status.LastAttemptedReleaseAction = last
		}
	}
	cases := []struct {
		name    string
		state   release.StateKind
		changed bool
		mutate  []func(*helmv1.HelmRelease)
		want    nextAction
	}{
		{name: "absent installs", state: release.Absent, changed: true, want: actInstall},
		{name: "absent again after a manual uninstall installs", state: release.Absent, want: actInstall},
		{name: "absent after a failed install waits for a change", state: release.Absent,
			mutate: []func(*helmv1.HelmRelease){failed(1, 0, helmv1.ReleaseActionInstall)}, want: actStall},
		{name: "absent after a failed install with retries left installs", state: release.Absent,
			mutate: []func(*helmv1.HelmRelease){retries(2, 0), failed(2, 0, helmv1.ReleaseActionInstall)}, want: actInstall},
		{name: "absent with retries forever installs", state: release.Absent,
			mutate: []func(*helmv1.HelmRelease){retries(-1, 0), failed(50, 0, helmv1.ReleaseActionInstall)}, want: actInstall},
		{name: "absent with a new desired state installs", state: release.Absent, changed: true,
			mutate: []func(*helmv1.HelmRelease){failed(1, 0, helmv1.ReleaseActionInstall)}, want: actInstall},
		{name: "in sync does nothing", state: release.InSync, want: actNone},
		{name: "in sync with a new spec upgrades", state: release.InSync, changed: true, want: actUpgrade},
		{name: "out of sync upgrades", state: release.OutOfSync, changed: true, want: actUpgrade},
		{name: "out of sync after a failed upgrade waits for a change", state: release.OutOfSync,
			mutate: []func(*helmv1.HelmRelease){failed(0, 1, helmv1.ReleaseActionUpgrade)}, want: actStall},
		{name: "failed install is retried by an upgrade while retries last", state: release.Failed,
			mutate: []func(*helmv1.HelmRelease){retries(1, 0), failed(1, 0, helmv1.ReleaseActionInstall)}, want: actUpgrade},
		{name: "failed install without retries stalls", state: release.Failed,
			mutate: []func(*helmv1.HelmRelease){failed(1, 0, helmv1.ReleaseActionInstall)}, want: actStall},
		{name: "failed upgrade without retries stalls", state: release.Failed,
			mutate: []func(*helmv1.HelmRelease){failed(0, 1, helmv1.ReleaseActionUpgrade)}, want: actStall},
		{name: "failed release found without a failure of ours upgrades", state: release.Failed, want: actUpgrade},
		{name: "absent after an upgrade uninstalled by remediation installs while retries last", state: release.Absent,
			mutate: []func(*helmv1.HelmRelease){retries(0, 1), failed(0, 1, helmv1.ReleaseActionUpgrade)}, want: actInstall},
		{name: "absent after an upgrade uninstalled by its last remediation stalls", state: release.Absent,
			mutate: []func(*helmv1.HelmRelease){retries(0, 1), failed(0, 2, helmv1.ReleaseActionUpgrade)}, want: actStall},
		{name: "rolled back after a failed upgrade upgrades while retries last", state: release.OutOfSync,
			mutate: []func(*helmv1.HelmRelease){retries(0, 2), failed(0, 2, helmv1.ReleaseActionUpgrade)}, want: actUpgrade},
		{name: "locked unlocks", state: release.Locked, want: actUnlock},
		{name: "busy waits", state: release.Busy, changed: true, want: actWait},
		{name: "unowned stalls", state: release.Unowned, changed: true, want: actStall},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hr := &helmv1.HelmRelease{}
			for _, m := range tc.mutate {
				m(hr)
			}
			if got := decide(hr, release.State{Kind: tc.state}, tc.changed); got != tc.want {
				t.Fatalf("decide = %s, want %s", got, tc.want)
			}
		})
	}
}

func rel(version int, status helmrelease.Status) *helmrelease.Release {
	return &helmrelease.Release{Name: "app", Namespace: "ns", Version: version,
		Info: &helmrelease.Info{Status: status, LastDeployed: helmtime.Now()}}
}

func TestSnapshots(t *testing.T) {
	cases := []struct {
		name string
		revs []*helmrelease.Release
		want string
	}{
		{name: "first install", revs: []*helmrelease.Release{rel(1, helmrelease.StatusDeployed)}, want: "1:deployed"},
		{name: "upgrade keeps the previous successful",
			revs: []*helmrelease.Release{rel(3, helmrelease.StatusDeployed), rel(2, helmrelease.StatusSuperseded), rel(1, helmrelease.StatusSuperseded)},
			want: "3:deployed 2:superseded"},
		{name: "failures up to the last successful",
			revs: []*helmrelease.Release{rel(4, helmrelease.StatusFailed), rel(3, helmrelease.StatusFailed), rel(2, helmrelease.StatusDeployed), rel(1, helmrelease.StatusSuperseded)},
			want: "4:failed 3:failed 2:deployed"},
		{name: "none", want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, s := range snapshots(tc.revs, nil, "") {
				got = append(got, fmt.Sprintf("%d:%s", s.Version, s.Status))
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("got %v, want %s", got, tc.want)
			}
		})
	}
	var many []*helmrelease.Release
	for v := 30; v > 0; v-- {
		many = append(many, rel(v, helmrelease.StatusFailed))
	}
	if n := len(snapshots(many, nil, "")); n != maxSnapshots {
		t.Fatalf("%d snapshots, want at most %d", n, maxSnapshots)
	}
	prev := helmv1.Snapshots{{Name: "app", Namespace: "ns", Version: 1, OCIDigest: "sha256:one"}}
	got := snapshots([]*helmrelease.Release{rel(2, helmrelease.StatusDeployed), rel(1, helmrelease.StatusSuperseded)}, prev, "sha256:two")
	if got[0].OCIDigest != "sha256:two" || got[1].OCIDigest != "sha256:one" {
		t.Fatalf("OCI digests %q %q", got[0].OCIDigest, got[1].OCIDigest)
	}
}

func TestSummarize(t *testing.T) {
	hr := &helmv1.HelmRelease{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	sc := &hrScope{obj: hr}
	hr.Status.Conditions = []metav1.Condition{{Type: helmv1.ReleasedCondition, Status: metav1.ConditionTrue,
		Reason: helmv1.UpgradeSucceededReason, Message: "Helm upgrade succeeded for release ns/app.v2 with chart demo@1.0.0"}}
	summarizeHelmRelease(sc, steps.Classify(nil, meta.FailedReason))
	ready := hr.Status.Conditions[len(hr.Status.Conditions)-1]
	for _, c := range hr.Status.Conditions {
		if c.Type == meta.ReadyCondition {
			ready = c
		}
	}
	if ready.Status != metav1.ConditionTrue || ready.Reason != helmv1.UpgradeSucceededReason || !strings.Contains(ready.Message, "ns/app.v2") {
		t.Fatalf("Ready on success repeats Released: %+v", ready)
	}
	stalled := steps.Classify(steps.Stalled(helmv1.InstallFailedReason, errors.New("boom")), meta.FailedReason)
	res, err := (&HelmReleaseReconciler{}).frame().Result(&helmv1.HelmRelease{Spec: helmv1.HelmReleaseSpec{Interval: metav1.Duration{Duration: time.Minute}}}, stalled)
	if err != nil || res.RequeueAfter != time.Minute {
		t.Fatalf("a stalled release is looked at again after the interval: %+v %v", res, err)
	}
}

func TestReconcileSpec(t *testing.T) {
	r := &HelmReleaseReconciler{NoCrossNamespaceRefs: true}
	base := func(mutate func(*helmv1.HelmRelease)) *helmv1.HelmRelease {
		hr := &helmv1.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app"},
			Spec: helmv1.HelmReleaseSpec{ChartRef: &helmv1.CrossNamespaceSourceReference{Kind: "HelmChart", Name: "c"}}}
		mutate(hr)
		return hr
	}
	cases := []struct {
		name string
		hr   *helmv1.HelmRelease
		want string
	}{
		{name: "local chartRef", hr: base(func(*helmv1.HelmRelease) {})},
		{name: "chartRef elsewhere", hr: base(func(hr *helmv1.HelmRelease) { hr.Spec.ChartRef.Namespace = "shared" }),
			want: "spec.chartRef: namespace 'shared' is another namespace than the HelmRelease's"},
		{name: "template source elsewhere", hr: base(func(hr *helmv1.HelmRelease) {
			hr.Spec.ChartRef = nil
			hr.Spec.Chart = &helmv1.HelmChartTemplate{Spec: helmv1.HelmChartTemplateSpec{Chart: "c",
				SourceRef: helmv1.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "r", Namespace: "shared"}}}
		}), want: "spec.chart.spec.sourceRef: namespace 'shared'"},
		{name: "53 characters", hr: base(func(hr *helmv1.HelmRelease) { hr.Spec.ReleaseName = strings.Repeat("a", 53) })},
		{name: "54 characters", hr: base(func(hr *helmv1.HelmRelease) { hr.Spec.ReleaseName = strings.Repeat("a", 54) }),
			want: "spec.releaseName '" + strings.Repeat("a", 54) + "' is 54 characters long"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := r.reconcileSpec(context.Background(), &hrScope{obj: tc.hr})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if steps.Classify(err, "").Kind != steps.Stalling {
				t.Fatalf("%v must stall", err)
			}
		})
	}
}

func TestSourceChanged(t *testing.T) {
	ready := func(gen int64, msg string) []metav1.Condition {
		return []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, ObservedGeneration: gen, Message: msg}}
	}
	hc := func(rev string, conds []metav1.Condition) *sourcev1.HelmChart {
		c := &sourcev1.HelmChart{}
		if rev != "" {
			c.Status.Artifact = &meta.Artifact{Revision: rev, Digest: "sha256:" + rev}
		}
		c.Status.Conditions = conds
		return c
	}
	p := sourceChanged()
	for _, tc := range []struct {
		name     string
		old, new *sourcev1.HelmChart
		want     bool
	}{
		{"new artifact", hc("1", ready(1, "a")), hc("2", ready(1, "a")), true},
		{"first artifact", hc("", nil), hc("1", ready(1, "a")), true},
		{"now failing", hc("1", ready(1, "a")), hc("1", []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, ObservedGeneration: 1, Message: "no version"}}), true},
		{"new generation observed", hc("1", ready(1, "a")), hc("1", ready(2, "a")), true},
		{"nothing", hc("1", ready(1, "a")), hc("1", ready(1, "a")), false},
	} {
		if got := p.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCrossNamespaceDependencyRefused(t *testing.T) {
	r := &HelmReleaseReconciler{NoCrossNamespaceRefs: true}
	hr := &helmv1.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app"},
		Spec: helmv1.HelmReleaseSpec{DependsOn: []helmv1.DependencyReference{{Name: "db"}, {Kind: "Kustomization", Name: "infra", Namespace: "platform"}}}}
	err := r.reconcileDependencies(context.Background(), &hrScope{obj: hr})
	if err == nil || !strings.Contains(err.Error(), "spec.dependsOn: Kustomization 'platform/infra' is in another namespace") ||
		steps.Classify(err, "").Kind != steps.Stalling {
		t.Fatalf("got %v, want a stall naming the Kustomization", err)
	}
}

func TestResult(t *testing.T) {
	hr := &helmv1.HelmRelease{Spec: helmv1.HelmReleaseSpec{Interval: metav1.Duration{Duration: 5 * time.Minute}}}
	res, err := (&HelmReleaseReconciler{}).frame().Result(hr, steps.Classify(nil, ""))
	if err != nil || res.RequeueAfter != 5*time.Minute {
		t.Fatalf("success: %+v %v, want a requeue after the interval", res, err)
	}
	transient := errors.New("conflict")
	if _, err := (&HelmReleaseReconciler{}).frame().Result(hr, steps.Classify(transient, meta.FailedReason)); !errors.Is(err, transient) {
		t.Fatalf("a transient error is returned for backoff, got %v", err)
	}
}
