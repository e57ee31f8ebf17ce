package controller

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/fluxcd/pkg/runtime/conditions"
	helmrelease "helm.sh/helm/v3/pkg/release"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/steps"
)

// helmReleaseNegative are HelmRelease's abnormal-true conditions; a success clears them.
var helmReleaseNegative = []string{helmv1.RemediatedCondition, meta.ApprovalRequiredCondition, meta.SyncWindowClosedCondition}

// helmReleaseOwnedConditions are the conditions the controller alone writes.
var helmReleaseOwnedConditions = append([]string{
	meta.ReadyCondition, meta.ReconcilingCondition, meta.StalledCondition,
	helmv1.ReleasedCondition, helmv1.TestSuccessCondition,
}, helmReleaseNegative...)

// snapshotAPIVersion versions how Snapshot.Digest is computed.
const snapshotAPIVersion = "weir.dev/v1"

// maxSnapshots bounds status.history.
const maxSnapshots = 10

// summarizeHelmRelease sets Ready, Reconciling and Stalled for the outcome of a run. On
// success Ready repeats Released: what the last action did, or that the release is up to date.
func summarizeHelmRelease(sc *hrScope, o steps.Outcome) {
	if o.Kind == steps.Succeeded && sc.held != nil {
		// Nothing was released: status says what waits for what.
		sc.held.Apply(sc.obj)
		return
	}
	reason, msg := meta.SucceededReason, ""
	if c := conditions.Get(sc.obj, helmv1.ReleasedCondition); c != nil && c.Status == metav1.ConditionTrue {
		reason, msg = c.Reason, c.Message
	}
	steps.Summary{Negative: helmReleaseNegative, SuccessReason: reason, SuccessMessage: msg}.Apply(sc.obj, o)
}

// revisionMetadata is the event metadata: the chart revision attempted.
func revisionMetadata(sc *hrScope) map[string]string {
	if sc.revision != "" {
		return map[string]string{meta.RevisionEventKey: sc.revision}
	}
	return nil
}

// historyStale reports whether status.history's newest entry is not cur as it is now.
func historyStale(h helmv1.Snapshots, cur *helmrelease.Release) bool {
	if cur == nil {
		return false
	}
	l := h.Latest()
	return l == nil || l.Name != cur.Name || l.Namespace != cur.Namespace || l.Version != cur.Version ||
		l.Status != cur.Info.Status.String()
}

// snapshots turns revisions (newest first) into status.history: the newest, then older ones up
// to and including the previous successful (deployed or superseded) one, at most maxSnapshots.
// OCI digests are kept from previous for revisions it already had; ociDigest, when set, is
// the newest revision's.
func snapshots(revs []*helmrelease.Release, previous helmv1.Snapshots, ociDigest string) helmv1.Snapshots {
	known := map[string]string{}
	for _, s := range previous {
		if s != nil && s.OCIDigest != "" {
			known[fmt.Sprintf("%s/%s/%d", s.Namespace, s.Name, s.Version)] = s.OCIDigest
		}
	}
	var out helmv1.Snapshots
	for i, rel := range revs {
		if len(out) == maxSnapshots {
			break
		}
		s := snapshot(rel)
		s.OCIDigest = known[fmt.Sprintf("%s/%s/%d", s.Namespace, s.Name, s.Version)]
		if i == 0 && ociDigest != "" {
			s.OCIDigest = ociDigest
		}
		out = append(out, s)
		st := rel.Info.Status
		if i > 0 && (st == helmrelease.StatusDeployed || st == helmrelease.StatusSuperseded) {
			break
		}
	}
	return out
}

// snapshot records one revision.
func snapshot(rel *helmrelease.Release) *helmv1.Snapshot {
	s := &helmv1.Snapshot{
		APIVersion:   snapshotAPIVersion,
		Digest:       releaseDigest(rel),
		Name:         rel.Name,
		Namespace:    rel.Namespace,
		Version:      rel.Version,
		ConfigDigest: release.ValuesDigest(rel.Config),
		TestHooks:    testHookStatuses(rel),
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		s.ChartName = rel.Chart.Metadata.Name
		s.ChartVersion = rel.Chart.Metadata.Version
		s.AppVersion = rel.Chart.Metadata.AppVersion
	}
	if rel.Info != nil {
		s.Status = rel.Info.Status.String()
		s.FirstDeployed = metav1.NewTime(rel.Info.FirstDeployed.Time)
		s.LastDeployed = metav1.NewTime(rel.Info.LastDeployed.Time)
		if !rel.Info.Deleted.IsZero() {
			s.Deleted = metav1.NewTime(rel.Info.Deleted.Time)
		}
	}
	return s
}

// releaseDigest is `sha256:<hex>` of the revision's stored form.
func releaseDigest(rel *helmrelease.Release) string {
	b, err := json.Marshal(rel)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("sha256:%x", sha256.Sum256(b))
}
