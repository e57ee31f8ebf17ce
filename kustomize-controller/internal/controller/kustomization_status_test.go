package controller

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/gate"
	"weir.dev/pkg/steps"
)

func statusScope(revision string) *ksScope {
	sc := &ksScope{obj: &kustomizev1.Kustomization{}, started: time.Unix(1000, 0), digest: "sha256:set"}
	if revision != "" {
		sc.artifact = &meta.Artifact{Revision: revision}
	}
	return sc
}

// TestSummarizeKustomization: what each outcome leaves in Ready, Stalled, Reconciling, the
// applied revision and history; a held success (approval, sync window) leaves Ready and
// history as the last applied state had them.
func TestSummarizeKustomization(t *testing.T) {
	stalled := steps.Classify(steps.Stalled(kustomizev1.BuildFailedReason, errors.New("kustomization.yaml: bad")), meta.FailedReason)
	transient := steps.Classify(steps.Failed(kustomizev1.ApplyFailedReason, errors.New("dry-run failed")), meta.FailedReason)
	waiting := steps.Classify(steps.Waiting(meta.DependencyNotReadyReason, time.Second, errors.New("source not ready")), meta.FailedReason)
	for _, tc := range []struct {
		name         string
		revision     string
		held         *gate.Hold
		o            steps.Outcome
		ready        metav1.ConditionStatus
		reason, msg  string
		lastApplied  string
		history      int
		historyState string
	}{
		{name: "success records the applied revision", revision: "main@sha1:1", ready: metav1.ConditionTrue,
			reason: kustomizev1.ReconciliationSucceededReason, msg: "applied revision main@sha1:1", lastApplied: "main@sha1:1",
			history: 1, historyState: kustomizev1.ReconciliationSucceededReason},
		{name: "success without a source", ready: metav1.ConditionTrue, reason: kustomizev1.ReconciliationSucceededReason},
		{name: "stall", revision: "main@sha1:1", o: stalled, ready: metav1.ConditionFalse, reason: kustomizev1.BuildFailedReason,
			msg: "kustomization.yaml: bad", history: 1, historyState: kustomizev1.BuildFailedReason},
		{name: "transient failure", revision: "main@sha1:1", o: transient, ready: metav1.ConditionFalse, reason: kustomizev1.ApplyFailedReason,
			msg: "dry-run failed", history: 1, historyState: kustomizev1.ApplyFailedReason},
		{name: "a wait is no attempt", revision: "main@sha1:1", o: waiting, ready: metav1.ConditionFalse, reason: meta.DependencyNotReadyReason},
		{name: "held for approval", revision: "main@sha1:2", held: &gate.Hold{Reason: meta.ApprovalRequiredReason, Message: "approve plan abc"},
			ready: metav1.ConditionFalse, reason: meta.ApprovalRequiredReason, msg: "approve plan abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := statusScope(tc.revision)
			sc.held = tc.held
			conditions.MarkTrue(sc.obj, kustomizev1.BuildFailedCondition, kustomizev1.BuildFailedReason, "earlier")
			summarizeKustomization(sc, tc.o)
			ready := conditions.Get(sc.obj, meta.ReadyCondition)
			if ready == nil || ready.Status != tc.ready || ready.Reason != tc.reason || !strings.Contains(ready.Message, tc.msg) {
				t.Fatalf("Ready = %+v, want %s %s %q", ready, tc.ready, tc.reason, tc.msg)
			}
			if got := conditions.IsTrue(sc.obj, meta.StalledCondition); got != (tc.o.Kind == steps.Stalling) {
				t.Errorf("Stalled = %v", got)
			}
			if tc.o.Kind == steps.Succeeded && tc.held == nil && conditions.Has(sc.obj, kustomizev1.BuildFailedCondition) {
				t.Error("a success left BuildFailed")
			}
			if sc.obj.Status.LastAppliedRevision != tc.lastApplied {
				t.Errorf("lastAppliedRevision %q, want %q", sc.obj.Status.LastAppliedRevision, tc.lastApplied)
			}
			if h := sc.obj.Status.History; len(h) != tc.history || (tc.history > 0 && h[0].LastReconciledStatus != tc.historyState) {
				t.Errorf("history %+v, want %d entries, newest %s", h, tc.history, tc.historyState)
			}
		})
	}
}

// TestRecordHistory: attempts of the same revision, set and result count in one entry; any
// change starts a new one, newest first, at most maxHistory.
func TestRecordHistory(t *testing.T) {
	now := time.Unix(2000, 0)
	success := steps.Outcome{}
	failed := steps.Classify(steps.Failed(kustomizev1.ApplyFailedReason, errors.New("x")), meta.FailedReason)
	type attempt struct {
		revision, digest string
		o                steps.Outcome
	}
	for _, tc := range []struct {
		name     string
		attempts []attempt
		want     []string // revision/status/total of each entry, newest first
	}{
		{"one attempt", []attempt{{"r1", "d1", success}}, []string{"r1/ReconciliationSucceeded/1"}},
		{"repeats count in one entry", []attempt{{"r1", "d1", success}, {"r1", "d1", success}, {"r1", "d1", success}},
			[]string{"r1/ReconciliationSucceeded/3"}},
		{"a failure starts a new entry", []attempt{{"r1", "d1", success}, {"r1", "d1", failed}},
			[]string{"r1/ApplyFailed/1", "r1/ReconciliationSucceeded/1"}},
		{"a new set of the same revision starts a new entry", []attempt{{"r1", "d1", success}, {"r1", "d2", success}},
			[]string{"r1/ReconciliationSucceeded/1", "r1/ReconciliationSucceeded/1"}},
		{"at most maxHistory", []attempt{{"r1", "d", success}, {"r2", "d", success}, {"r3", "d", success}, {"r4", "d", success},
			{"r5", "d", success}, {"r6", "d", success}},
			[]string{"r6/ReconciliationSucceeded/1", "r5/ReconciliationSucceeded/1", "r4/ReconciliationSucceeded/1",
				"r3/ReconciliationSucceeded/1", "r2/ReconciliationSucceeded/1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &kustomizev1.Kustomization{}
			for i, a := range tc.attempts {
				sc := statusScope(a.revision)
				sc.obj, sc.digest = obj, a.digest
				recordHistory(obj, sc, a.o, now.Add(time.Duration(i)*time.Minute))
			}
			var got []string
			for _, h := range obj.Status.History {
				got = append(got, fmt.Sprintf("%s/%s/%d", h.Metadata["revision"], h.LastReconciledStatus, h.TotalReconciliations))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("history %v, want %v", got, tc.want)
			}
		})
	}
	// The entry's times: first and last attempt, and the last one's duration from the start.
	obj := &kustomizev1.Kustomization{}
	sc := statusScope("r1")
	sc.obj = obj
	recordHistory(obj, sc, success, sc.started.Add(time.Second))
	recordHistory(obj, sc, success, sc.started.Add(3*time.Second))
	h := obj.Status.History[0]
	if !h.FirstReconciled.Time.Equal(sc.started.Add(time.Second)) || !h.LastReconciled.Time.Equal(sc.started.Add(3*time.Second)) ||
		h.LastReconciledDuration.Duration != 3*time.Second {
		t.Errorf("times: first %s last %s duration %s", h.FirstReconciled, h.LastReconciled, h.LastReconciledDuration.Duration)
	}
}

// TestChangeMessage: a success's event names what was created, configured and pruned, never
// what was unchanged, and at most maxChangesInEvent objects.
func TestChangeMessage(t *testing.T) {
	entry := func(name string, a ssa.Action) ssa.ChangeSetEntry {
		return ssa.ChangeSetEntry{Subject: "ConfigMap/ns/" + name, Action: a}
	}
	many := &ssa.ChangeSet{}
	for i := range maxChangesInEvent + 3 {
		many.Entries = append(many.Entries, entry(fmt.Sprintf("c%02d", i), ssa.CreatedAction))
	}
	for _, tc := range []struct {
		name    string
		applied *ssa.ChangeSet
		pruned  *ssa.ChangeSet
		want    string
	}{
		{"nothing ran", nil, nil, ""},
		{"nothing changed", &ssa.ChangeSet{Entries: []ssa.ChangeSetEntry{entry("a", ssa.UnchangedAction)}}, nil, ""},
		{"created, configured and pruned", &ssa.ChangeSet{Entries: []ssa.ChangeSetEntry{entry("a", ssa.CreatedAction), entry("b", ssa.UnchangedAction),
			entry("c", ssa.ConfiguredAction)}}, &ssa.ChangeSet{Entries: []ssa.ChangeSetEntry{entry("d", ssa.DeletedAction)}},
			"ConfigMap/ns/a created\nConfigMap/ns/c configured\nConfigMap/ns/d deleted"},
		{"bounded", many, nil, "and 3 more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := statusScope("r1")
			sc.changeSet, sc.pruned = tc.applied, tc.pruned
			got := changeMessage(sc)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("changeMessage = %q, want %q", got, tc.want)
			}
			if tc.applied == many && strings.Count(got, "\n") != maxChangesInEvent {
				t.Errorf("%d lines, want %d objects and the rest counted", strings.Count(got, "\n")+1, maxChangesInEvent)
			}
		})
	}
}

// TestKustomizationResult: the frame's result for the Kustomization's options: after the
// interval on success, after the wait while waiting, never while stalled, the error on a
// transient failure, and the retry bound from spec.retryInterval when set.
func TestKustomizationResult(t *testing.T) {
	r := &KustomizationReconciler{}
	minute, second := time.Minute, time.Second
	obj := &kustomizev1.Kustomization{}
	obj.Spec.Interval = metav1.Duration{Duration: 5 * minute}
	transient := errors.New("boom")
	for _, tc := range []struct {
		name    string
		o       steps.Outcome
		want    time.Duration
		wantErr error
	}{
		{"success", steps.Outcome{}, 5 * minute, nil},
		{"waiting", steps.Classify(steps.Waiting(meta.DependencyNotReadyReason, 7*second, errors.New("w")), ""), 7 * second, nil},
		{"stalled", steps.Classify(steps.Stalled(meta.InvalidSpecReason, errors.New("s")), ""), 0, nil},
		{"transient", steps.Classify(transient, meta.FailedReason), 0, transient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := r.frame().Result(obj, tc.o)
			if res.RequeueAfter != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("got %+v, %v; want RequeueAfter %s, %v", res, err, tc.want, tc.wantErr)
			}
		})
	}
	if got := r.frame().RetryBound(obj); got != 5*minute {
		t.Errorf("retry bound without retryInterval %s, want the interval", got)
	}
	obj.Spec.RetryInterval = &metav1.Duration{Duration: 20 * second}
	if field, d := retryInterval(obj); field != "spec.retryInterval" || d != 20*second || r.frame().RetryBound(obj) != 20*second {
		t.Errorf("retry bound with retryInterval: %s %s", field, d)
	}
}
