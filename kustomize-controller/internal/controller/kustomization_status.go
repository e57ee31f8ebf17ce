package controller

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/pkg/ssa"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/steps"
)

// kustomizationNegative are Kustomization's abnormal-true conditions; a success clears them.
var kustomizationNegative = []string{
	kustomizev1.ArtifactFailedCondition, kustomizev1.DependencyNotReadyCondition, kustomizev1.BuildFailedCondition,
	kustomizev1.ApplyFailedCondition, kustomizev1.PruneFailedCondition, kustomizev1.HealthCheckFailedCondition,
	kustomizev1.HookFailedCondition,
	meta.ApprovalRequiredCondition, meta.SyncWindowClosedCondition,
}

// kustomizationOwnedConditions are the conditions the controller alone writes.
var kustomizationOwnedConditions = append([]string{
	meta.ReadyCondition, meta.ReconcilingCondition, meta.StalledCondition, kustomizev1.HealthyCondition,
}, kustomizationNegative...)

// maxHistory is how many distinct applied sets status.history keeps.
const maxHistory = 5

// summarizeKustomization sets Ready, Reconciling and Stalled for the outcome of a run, and on
// success records the applied revision and the history entry.
func summarizeKustomization(sc *ksScope, o steps.Outcome) {
	obj := sc.obj
	if o.Kind == steps.Succeeded && sc.held != nil {
		// Nothing was applied: status says what waits for what; history and Ready's revision
		// stay those of the state applied.
		sc.held.Apply(obj)
		return
	}
	msg := ""
	if o.Kind == steps.Succeeded && sc.artifact != nil {
		obj.Status.LastAppliedRevision = sc.artifact.Revision
		msg = fmt.Sprintf("applied revision %s", sc.artifact.Revision)
	}
	steps.Summary{Negative: kustomizationNegative, SuccessReason: kustomizev1.ReconciliationSucceededReason, SuccessMessage: msg}.Apply(obj, o)
	if sc.artifact != nil && (o.Kind == steps.Succeeded || o.Kind == steps.Transient || o.Kind == steps.Stalling) {
		recordHistory(obj, sc, o, time.Now())
	}
}

// recordHistory adds the attempt to status.history: attempts of the same revision and
// applied set update one entry, newest first, at most maxHistory entries.
func recordHistory(obj *kustomizev1.Kustomization, sc *ksScope, o steps.Outcome, now time.Time) {
	digest := sc.setDigest()
	// The reason Ready has after the attempt, as the API documents.
	status := kustomizev1.ReconciliationSucceededReason
	if o.Kind != steps.Succeeded {
		status = o.Reason
	}
	h := obj.Status.History
	if len(h) > 0 && h[0].Digest == digest && h[0].Metadata["revision"] == sc.artifact.Revision && h[0].LastReconciledStatus == status {
		h[0].LastReconciled = metav1.NewTime(now)
		h[0].LastReconciledDuration = metav1.Duration{Duration: now.Sub(sc.started).Round(time.Millisecond)}
		h[0].TotalReconciliations++
		return
	}
	entry := kustomizev1.ReconcileSnapshot{
		Digest:                 digest,
		FirstReconciled:        metav1.NewTime(now),
		LastReconciled:         metav1.NewTime(now),
		LastReconciledDuration: metav1.Duration{Duration: now.Sub(sc.started).Round(time.Millisecond)},
		LastReconciledStatus:   status,
		TotalReconciliations:   1,
		Metadata:               map[string]string{"revision": sc.artifact.Revision},
	}
	obj.Status.History = append([]kustomizev1.ReconcileSnapshot{entry}, h...)
	if len(obj.Status.History) > maxHistory {
		obj.Status.History = obj.Status.History[:maxHistory]
	}
}

// setDigest identifies the desired state of an attempt: the built objects' content, with
// their ownership labels. It is computed once.
func (sc *ksScope) setDigest() string {
	if sc.digest == "" {
		h := sha256.New()
		for _, o := range sc.objects {
			b, _ := json.Marshal(o.Object)
			h.Write(b)
		}
		sc.digest = fmt.Sprintf("sha256:%x", h.Sum(nil))
	}
	return sc.digest
}

// retryInterval is what bounds the backoff before a transient failure is retried, and the
// field it comes from: spec.retryInterval, or spec.interval when it is unset. The frame raises
// it to the floor so that a retryInterval of 1ms cannot make a hot loop.
func retryInterval(obj *kustomizev1.Kustomization) (string, time.Duration) {
	if obj.Spec.RetryInterval == nil {
		return "spec.interval", obj.GetRetryInterval()
	}
	return "spec.retryInterval", obj.GetRetryInterval()
}

// announceChanges is the Normal event of a successful run: the objects it changed, if any.
func announceChanges(sc *ksScope, o steps.Outcome) (reason, message string) {
	if o.Kind != steps.Succeeded {
		return "", ""
	}
	return kustomizev1.ReconciliationSucceededReason, changeMessage(sc)
}

// maxChangesInEvent bounds the objects an event names.
const maxChangesInEvent = 20

// changeMessage describes what a successful run changed, "" when nothing: the objects
// created, configured and pruned, at most maxChangesInEvent of them.
func changeMessage(sc *ksScope) string {
	var changes []string
	for _, cs := range []*ssa.ChangeSet{sc.changeSet, sc.pruned} {
		if cs == nil {
			continue
		}
		for _, e := range cs.Entries {
			if e.Action == ssa.CreatedAction || e.Action == ssa.ConfiguredAction || e.Action == ssa.DeletedAction {
				changes = append(changes, e.String())
			}
		}
	}
	if len(changes) == 0 {
		return ""
	}
	if len(changes) > maxChangesInEvent {
		changes = append(changes[:maxChangesInEvent], fmt.Sprintf("and %d more", len(changes)-maxChangesInEvent))
	}
	return strings.Join(changes, "\n")
}

// revisionMetadata is the event metadata: the revision attempted.
func revisionMetadata(sc *ksScope) map[string]string {
	if sc.artifact != nil {
		return map[string]string{meta.RevisionEventKey: sc.artifact.Revision}
	}
	return nil
}
