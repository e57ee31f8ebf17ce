package cmd

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/artifact"
)

// pendingKustomization returns a Kustomization whose plan of revision waits for approval,
// as kustomize-controller records it.
func pendingKustomization(ns, name, source, revision string) *kustomizev1.Kustomization {
	msg := "revision " + revision + ": 1 to create, 1 to change, 0 to delete"
	conds := ready(metav1.ConditionFalse, meta.ApprovalRequiredReason, msg)
	conds = append(conds, metav1.Condition{Type: meta.ApprovalRequiredCondition, Status: metav1.ConditionTrue, Reason: meta.ApprovalRequiredReason,
		Message: msg, ObservedGeneration: 1, LastTransitionTime: metav1.Now()})
	ks := kustomization(ns, name, source, conds, "main@sha1:1")
	ks.Spec.Approval = meta.ApprovalManual
	ks.Spec.TargetNamespace = ns
	ks.Status.Plan = &meta.Plan{Revision: revision, Digest: "sha256:0", Create: 1, Change: 1, ComputedAt: metav1.Now(),
		Objects: []meta.PlanObject{{ID: ns + "_new__ConfigMap", Action: meta.PlanCreate}, {ID: ns + "_creds__Secret", Action: meta.PlanChange}}}
	ks.Status.LastHandledApproval = "main@sha1:1"
	return ks
}

func annotationOf(t *testing.T, ns, name, key string) string {
	t.Helper()
	ks := &kustomizev1.Kustomization{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ks); err != nil {
		t.Fatal(err)
	}
	return ks.Annotations[key]
}

// TestApprove: `weir approve` approves the pending plan's revision and waits for the result; a
// --revision that is not the plan's is refused, naming the current one, and approves nothing.
func TestApprove(t *testing.T) {
	ns := env.Namespace(t)
	create(t, pendingKustomization(ns, "apps", "repo", "main@sha1:2"))

	code, _, errOut := weir(t, "approve", "ks", "apps", "-n", ns, "--revision", "main@sha1:0")
	if code != 1 || !strings.Contains(errOut, "revision main@sha1:0 is stale: the plan waiting for approval is for revision main@sha1:2") {
		t.Fatalf("stale approve: code %d, err %q", code, errOut)
	}
	if v := annotationOf(t, ns, "apps", meta.ApproveAnnotation); v != "" {
		t.Fatalf("a stale approval was written: %q", v)
	}

	requests := fakeController(t, "ks", ns, "apps", readyTrue("applied revision main@sha1:2"))
	code, out, errOut := weir(t, "approve", "kustomization", "apps", "-n", ns, "--timeout", "20s")
	if code != 0 || requests() != 1 {
		t.Fatalf("approve: code %d, requests %d, out %q, err %q", code, requests(), out, errOut)
	}
	for _, want := range []string{"► approved revision main@sha1:2: 1 to create, 1 to change, 0 to delete of Kustomization " + ns + "/apps", "is Ready: applied revision main@sha1:2"} {
		if !strings.Contains(out, want) {
			t.Errorf("approve output lacks %q:\n%s", want, out)
		}
	}
	if v := annotationOf(t, ns, "apps", meta.ApproveAnnotation); v != "main@sha1:2" {
		t.Fatalf("approve annotation %q", v)
	}
	// The fake controller left no plan waiting.
	if code, _, errOut := weir(t, "approve", "ks", "apps", "-n", ns); code != 1 || !strings.Contains(errOut, "has no plan waiting for approval") {
		t.Fatalf("approve without a plan: code %d, err %q", code, errOut)
	}
}

// TestApproveSameRevisionAgain: a plan of a revision approved before (a spec change, or drift
// under driftApproval: Manual) is approved with a fresh value.
func TestApproveSameRevisionAgain(t *testing.T) {
	ns := env.Namespace(t)
	create(t, pendingKustomization(ns, "apps", "repo", "main@sha1:1"))
	fakeController(t, "ks", ns, "apps", readyTrue("applied revision main@sha1:1"))
	if code, out, errOut := weir(t, "approve", "ks", "apps", "-n", ns, "--timeout", "20s"); code != 0 {
		t.Fatalf("approve: code %d, out %q, err %q", code, out, errOut)
	}
	if v := annotationOf(t, ns, "apps", meta.ApproveAnnotation); !strings.HasPrefix(v, "main@sha1:1#") {
		t.Fatalf("approve annotation %q, want main@sha1:1#<time>", v)
	}
}

// TestReconcileOverrideWindow: --override-window sets the override annotation with the request.
func TestReconcileOverrideWindow(t *testing.T) {
	ns := env.Namespace(t)
	create(t, kustomization(ns, "apps", "repo", ready(metav1.ConditionTrue, meta.SucceededReason, "applied"), "main@sha1:1"))
	fakeController(t, "ks", ns, "apps", readyTrue("applied revision main@sha1:2"))
	code, out, errOut := weir(t, "reconcile", "ks", "apps", "-n", ns, "--override-window", "--timeout", "20s")
	if code != 0 || !strings.Contains(out, "outside its sync windows") {
		t.Fatalf("reconcile --override-window: code %d, out %q, err %q", code, out, errOut)
	}
	if v := annotationOf(t, ns, "apps", meta.OverrideWindowAnnotation); v == "" {
		t.Fatal("no override annotation")
	}
}

// TestPlan: `weir plan` prints the plan and the full diff of its revision, built from the
// source's artifact (served on 127.0.0.1), against the live cluster, Secret values masked.
func TestPlan(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	// Live: a Secret the plan changes.
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: %s\n"
	live := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"}, StringData: map[string]string{"password": "old-s3cret"}}
	if err := env.Client.Create(ctx, live); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	for name, content := range map[string]string{
		"app/cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\ndata:\n  value: fresh\n",
		"app/secret.yaml": strings.Replace(secret, "%s", "new-s3cret", 1),
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := artifact.Archive(&buf, dir, artifact.ArchiveOptions{}); err != nil {
		t.Fatal(err)
	}
	digest, size, err := artifact.Digest(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(buf.Bytes()) }))
	t.Cleanup(srv.Close)

	repo := gitRepository(ns, "repo", ready(metav1.ConditionTrue, meta.SucceededReason, "stored"), "")
	repo.Status.Artifact = &meta.Artifact{Path: "a.tar.gz", URL: srv.URL + "/a.tar.gz", Revision: "main@sha1:2", Digest: digest, Size: &size, LastUpdateTime: metav1.Now()}
	create(t, repo)
	ks := pendingKustomization(ns, "apps", "repo", "main@sha1:2")
	ks.Spec.Path = "./app"
	create(t, ks)

	code, out, errOut := weir(t, "plan", "ks", "apps", "-n", ns)
	if code != 0 {
		t.Fatalf("plan: code %d, out %q, err %q", code, out, errOut)
	}
	for _, want := range []string{
		"Kustomization " + ns + "/apps: revision main@sha1:2: 1 to create, 1 to change, 0 to delete",
		"waiting for approval: weir approve kustomization apps --revision main@sha1:2",
		"create " + ns + "_new__ConfigMap",
		"+  value: fresh",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("plan output shows a Secret value:\n%s", out)
	}
	if !strings.Contains(out, "*** (before)") || !strings.Contains(out, "*** (after)") {
		t.Errorf("plan output does not show the Secret's change masked:\n%s", out)
	}
}
