package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
)

// TestLockdownConfinesTenants runs the local mode as a multi-tenant install: the demo, whose
// objects name no ServiceAccount, runs as its namespace's default ServiceAccount; a commit
// that adds a ClusterRole is refused for that identity and creates nothing cluster-wide; and a
// Kustomization elsewhere may not use the demo's GitRepository.
func TestLockdownConfinesTenants(t *testing.T) {
	out := &syncWriter{}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	env, err := Up(ctx, Options{Dir: filepath.Join(t.TempDir(), "local"), Demo: true, Lockdown: true, Out: out})
	if err != nil {
		t.Fatalf("Up: %v\noutput:\n%s", err, out)
	}
	defer func() {
		_ = env.Stop()
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	}()
	d := env.Demo

	// A ClusterRole committed by the tenant is refused: the Kustomization acts as
	// weir-demo's default ServiceAccount, which may act in weir-demo alone.
	clusterRole := "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: tenant-escalation\nrules: []\n"
	if err := os.WriteFile(filepath.Join(d.WorkDir, "app", "clusterrole.yaml"), []byte(clusterRole), 0o644); err != nil {
		t.Fatal(err)
	}
	kust := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - configmap.yaml\n  - deployment.yaml\n  - clusterrole.yaml\n"
	if err := os.WriteFile(filepath.Join(d.WorkDir, "app", "kustomization.yaml"), []byte(kust), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, d.WorkDir, "add", "--all")
	gitIn(t, d.WorkDir, "commit", "--quiet", "--message", "A tenant tries a ClusterRole")
	gitIn(t, d.WorkDir, "push", "--quiet", "origin", "main")
	requestReconcile(t, env, &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: DemoNamespace, Name: "demo"}})

	ks := &kustomizev1.Kustomization{}
	testenv.Eventually(t, time.Minute, func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: DemoNamespace, Name: d.Kustomizations[0]}, ks); err != nil {
			return err
		}
		for _, c := range ks.Status.Conditions {
			if c.Type == meta.ReadyCondition && c.Status == metav1.ConditionFalse &&
				strings.Contains(c.Message, "system:serviceaccount:"+DemoNamespace+":default") && strings.Contains(c.Message, "clusterroles") {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", ks.Status.Conditions)
	})
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "tenant-escalation"}, &rbacv1.ClusterRole{}); !apierrors.IsNotFound(err) {
		t.Errorf("the tenant's ClusterRole exists or cannot be checked: %v", err)
	}

	// Another namespace may not point at the demo's GitRepository.
	other := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "borrow"},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "demo", Namespace: DemoNamespace},
			Path:      "./app", Interval: metav1.Duration{Duration: time.Minute}, Prune: true,
		},
	}
	if err := env.Client.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(other), other); err != nil {
			return err
		}
		for _, c := range other.Status.Conditions {
			if c.Type == meta.ReadyCondition && c.Status == metav1.ConditionFalse && c.Reason == meta.AccessDeniedReason &&
				strings.Contains(c.Message, "in another namespace") {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", other.Status.Conditions)
	})
}

func gitIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Weir test", "GIT_AUTHOR_EMAIL=test@weir.dev", "GIT_COMMITTER_NAME=Weir test", "GIT_COMMITTER_EMAIL=test@weir.dev")
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func requestReconcile(t *testing.T, env *Env, o client.Object) {
	t.Helper()
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, meta.ReconcileRequestAnnotation, time.Now().Format(time.RFC3339Nano)))
	if err := env.Client.Patch(context.Background(), o, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		t.Fatal(err)
	}
}
