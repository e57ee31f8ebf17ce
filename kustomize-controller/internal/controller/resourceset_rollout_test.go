package controller

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	setsv1 "weir.dev/api/sets/v1"
	"weir.dev/pkg/testenv"
)

// teamReleaseTemplate renders one HelmRelease per team directory (teams/<team>/production),
// the team "team-000" labelled as the canary, at chart version VERSION.
const teamReleaseTemplate = `apiVersion: helm.weir.dev/v1
kind: HelmRelease
metadata:
  name: {{ index .segments 1 }}
  labels:
    canary: {{ eq (index .segments 1) "team-000" | quote }}
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: VERSION
      sourceRef:
        kind: HelmRepository
        name: charts
`

// TestSetCanaryStopsBadTemplateAndFixResumes: 100 team directories in Git generate 100
// HelmReleases. A template change whose releases fail reaches the canary only: the rollout
// stops at the canary step, names it, and the 99 others keep their previous spec. A fixed
// template rolls out from the canary to every release.
// fleetTimeout bounds the waits for a hundred generated objects: at a load of 30 on two cores
// applying them took more than a minute.
const fleetTimeout = 5 * timeout

func TestSetCanaryStopsBadTemplateAndFixResumes(t *testing.T) {
	ns := env.Namespace(t)
	files := map[string]string{"teams/README.md": "teams"}
	for i := range 100 {
		files[fmt.Sprintf("teams/team-%03d/production/values.yaml", i)] = "replicas: 2\n"
		files[fmt.Sprintf("teams/team-%03d/staging/values.yaml", i)] = "replicas: 1\n"
	}
	publish(t, ns, "repo", "main@sha1:1", files)
	one := int32(1)
	set := createSet(t, ns, "team-apps", strings.Replace(teamReleaseTemplate, "VERSION", "1.0.0", 1), func(s *setsv1.ResourceSet) {
		s.Spec.SourceRef = &setsv1.SourceReference{Kind: "GitRepository", Name: "repo"}
		s.Spec.Generators = []setsv1.Generator{{Directories: &setsv1.PathGenerator{Paths: []string{"teams/*/production"}}}}
		s.Spec.Prune = true
		s.Spec.Strategy = &setsv1.Strategy{Steps: []setsv1.Step{
			{Name: "canary", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"canary": "true"}}, MaxUnavailable: &one},
			{Name: "rest"},
		}}
	})
	const bad = "2.0.0-bad"
	settle := func() error {
		settleReleases(t, ns, bad)
		return nil
	}

	// The first revision: every release is created (a first rollout goes in steps too).
	testenv.Eventually(t, fleetTimeout, func() error {
		_ = settle()
		if got := releaseVersions(t, ns); got["1.0.0"] != 100 {
			return fmt.Errorf("releases by version %v, want 100 at 1.0.0", got)
		}
		return nil
	})
	testenv.Eventually(t, fleetTimeout, func() error {
		_ = settle()
		c := setCondition(t, set, meta.ReadyCondition)
		if c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("set not Ready: %+v", c)
		}
		return nil
	})
	if n := len(set.Status.Inventory.Entries); n != 100 {
		t.Fatalf("inventory has %d entries, want 100", n)
	}

	// A bad template change: it stops after the canary.
	updateSet(t, set, func(s *setsv1.ResourceSet) {
		s.Spec.Template = strings.Replace(teamReleaseTemplate, "VERSION", bad, 1)
	})
	testenv.Eventually(t, fleetTimeout, func() error {
		_ = settle()
		c := setCondition(t, set, setsv1.RolloutStoppedCondition)
		if c == nil {
			return fmt.Errorf("rollout not stopped; rollout %+v", set.Status.Rollout)
		}
		return nil
	})
	c := setCondition(t, set, meta.ReadyCondition)
	mustContain(t, "Ready message", c.Message, "stopped at step canary (1 of 2)", "input teams/team-000/production",
		"HelmRelease "+ns+"/team-000", "chart version 2.0.0-bad not found", "later steps keep their previous spec")
	if c.Status != metav1.ConditionFalse || c.Reason != setsv1.RolloutStoppedReason {
		t.Fatalf("Ready %+v", c)
	}
	if s := setCondition(t, set, meta.StalledCondition); s == nil || s.Status != metav1.ConditionTrue {
		t.Fatalf("Stalled %+v", s)
	}
	if ro := set.Status.Rollout; ro == nil || !ro.Stopped || ro.StepName != "canary" || ro.Step != 0 {
		t.Fatalf("rollout %+v", ro)
	}
	// The others are untouched, and stay so through another run while the canary fails.
	if got := releaseVersions(t, ns); got[bad] != 1 || got["1.0.0"] != 99 {
		t.Fatalf("releases by version %v, want 1 at %s and 99 at 1.0.0", got, bad)
	}
	requestSetReconcile(t, set, "again")
	if got := releaseVersions(t, ns); got[bad] != 1 || got["1.0.0"] != 99 {
		t.Fatalf("after another run, releases by version %v, want 1 at %s and 99 at 1.0.0", got, bad)
	}
	testenv.Eventually(t, timeout, func() error {
		for _, e := range env.Events(t, ns, "team-apps") {
			if e.Reason == setsv1.RolloutStoppedReason && strings.Contains(e.Message, "step canary") {
				return nil
			}
		}
		return fmt.Errorf("no RolloutStopped event")
	})

	// A fix is a new revision: it resumes from the canary and reaches every release.
	updateSet(t, set, func(s *setsv1.ResourceSet) {
		s.Spec.Template = strings.Replace(teamReleaseTemplate, "VERSION", "2.0.1", 1)
	})
	testenv.Eventually(t, fleetTimeout, func() error {
		_ = settle()
		if got := releaseVersions(t, ns); got["2.0.1"] != 100 {
			return fmt.Errorf("releases by version %v, want 100 at 2.0.1", got)
		}
		c := setCondition(t, set, meta.ReadyCondition)
		if c == nil || c.Status != metav1.ConditionTrue || set.Status.ObservedGeneration != set.Generation {
			return fmt.Errorf("set not Ready: %+v", c)
		}
		return nil
	})
	if s := setCondition(t, set, meta.StalledCondition); s != nil {
		t.Fatalf("still Stalled: %+v", s)
	}
}

// TestSetMaxUnavailable: a step changes at most maxUnavailable inputs that are not Ready at a
// time; the next is applied as one becomes Ready.
func TestSetMaxUnavailable(t *testing.T) {
	ns := env.Namespace(t)
	two := int32(2)
	set := createSet(t, ns, "paced", strings.Replace(strings.Replace(teamReleaseTemplate, "index .segments 1", ".name", 2), "VERSION", "1.0.0", 1), func(s *setsv1.ResourceSet) {
		s.Spec.Generators = []setsv1.Generator{{List: listOf(`{"name":"a"}`, `{"name":"b"}`, `{"name":"c"}`, `{"name":"d"}`, `{"name":"e"}`)}}
		s.Spec.Strategy = &setsv1.Strategy{Steps: []setsv1.Step{{Name: "all", MaxUnavailable: &two}}}
	})
	testenv.Eventually(t, timeout, func() error {
		if got := releaseVersions(t, ns)["1.0.0"]; got != 2 {
			return fmt.Errorf("%d releases, want the first 2", got)
		}
		if ro := setCondition(t, set, meta.ReadyCondition); ro == nil || !strings.Contains(ro.Message, "(3 more to apply)") {
			return fmt.Errorf("Ready %+v", ro)
		}
		return nil
	})
	requestSetReconcile(t, set, "still-two")
	if got := releaseVersions(t, ns)["1.0.0"]; got != 2 {
		t.Fatalf("%d releases while none is Ready, want 2", got)
	}
	testenv.Eventually(t, fleetTimeout, func() error {
		settleReleases(t, ns, "")
		if got := releaseVersions(t, ns)["1.0.0"]; got != 5 {
			return fmt.Errorf("%d releases, want 5", got)
		}
		if c := setCondition(t, set, meta.ReadyCondition); c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("set not Ready: %+v", c)
		}
		return nil
	})
}
