package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

// TestStats: `weir stats` counts each kind's objects by state (a suspended one as Suspended
// whatever its Ready, one still reconciling as Reconciling) and sums the sources' artifact sizes,
// in the namespace asked for.
func TestStats(t *testing.T) {
	ns := env.Namespace(t)
	okRepo := gitRepository(ns, "ok", ready(metav1.ConditionTrue, meta.SucceededReason, "stored"), "main@sha1:1")
	okSize, badSize := int64(1536), int64(3<<20)
	okRepo.Status.Artifact.Size = &okSize
	create(t, okRepo)
	badRepo := gitRepository(ns, "bad", ready(metav1.ConditionFalse, "GitOperationFailed", "auth failed"), "main@sha1:2")
	badRepo.Status.Artifact.Size = &badSize
	create(t, badRepo)
	paused := gitRepository(ns, "paused", ready(metav1.ConditionFalse, "GitOperationFailed", "auth failed"), "")
	paused.Spec.Suspend = true
	create(t, paused)
	create(t, kustomization(ns, "applied", "ok", ready(metav1.ConditionTrue, meta.SucceededReason, "applied"), "main@sha1:1"))
	busy := kustomization(ns, "busy", "ok", append(ready(metav1.ConditionFalse, meta.ProgressingReason, "applying"),
		metav1.Condition{Type: meta.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: meta.ProgressingReason, Message: "applying", LastTransitionTime: metav1.Now()}), "")
	create(t, busy)
	create(t, kustomization(ns, "new", "ok", nil, ""))
	create(t, helmRelease(ns, "db", "db", ready(metav1.ConditionFalse, "InstallFailed", "install failed")))

	code, out, errOut := weir(t, "stats", "-n", ns)
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	want := "KIND            READY   FAILING   RECONCILING   SUSPENDED   TOTAL   ARTIFACTS\n" +
		"GitRepository   1       1         0             1           3       3.0 MiB in 2\n" +
		"Kustomization   1       0         2             0           3       -\n" +
		"HelmRelease     0       1         0             0           1       -\n" +
		"Total           2       2         2             1           7       3.0 MiB in 2\n"
	if out != want {
		t.Errorf("stats:\n%s\nwant:\n%s", out, want)
	}

	code, out, _ = weir(t, "stats", "-n", ns, "-o", "json")
	var s stats
	if err := json.Unmarshal([]byte(out), &s); code != 0 || err != nil {
		t.Fatalf("-o json: code %d, %v:\n%s", code, err, out)
	}
	if s.Total.ArtifactBytes != 1536+3<<20 || s.Total.Total != 7 || len(s.Kinds) != 3 || s.Kinds[0].Suspended != 1 {
		t.Errorf("-o json: %+v", s)
	}
	code, out, _ = weir(t, "stats", "-A", "--no-headers")
	if code != 0 || strings.HasPrefix(out, "KIND") || !strings.Contains(out, "Total ") {
		t.Errorf("-A --no-headers: code %d:\n%s", code, out)
	}
}
