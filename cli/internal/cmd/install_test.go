package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/install"
	"weir.dev/pkg/testenv"
)

func TestInstallExport(t *testing.T) {
	code, out, errOut := weir(t, "install", "--export", "--registry", "ghcr.io/acme/weir", "--version", "v0.3.1", "--namespace", "gitops")
	if code != 0 {
		t.Fatalf("code %d, %q", code, errOut)
	}
	for _, want := range []string{"kind: CustomResourceDefinition", "name: kustomizations.kustomize.weir.dev",
		"image: ghcr.io/acme/weir/helm-controller:v0.3.1", "namespace: gitops", "app.kubernetes.io/version: v0.3.1"} {
		if !strings.Contains(out, want) {
			t.Errorf("the export lacks %q", want)
		}
	}
	if strings.Contains(out, "weir-system") {
		t.Error("the export into gitops still names weir-system")
	}
	// A bad reference is refused before anything else, with the flag named.
	code, _, errOut = weir(t, "install", "--export", "--registry", "ghcr.io/acme/weir:v1")
	if code != 1 || !strings.Contains(errOut, "--registry") || !strings.Contains(errOut, "has a tag") {
		t.Errorf("a registry with a tag: code %d, %q", code, errOut)
	}
}

// TestInstallComponentsDryRun renders every component (and all of them together) into another
// namespace and has the API server validate the result with a server-side dry run.
func TestInstallComponentsDryRun(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	for _, components := range [][]string{nil, {"lockdown"}, {"sharding"}, {"large"}, {"lockdown", "sharding", "large"}} {
		objs, err := install.Objects(install.Options{Namespace: ns, Registry: "ghcr.io/acme/weir", Version: "v1", Components: components})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range objs {
			if u.GetKind() == "Namespace" {
				continue // exists; a dry run of it says nothing more
			}
			err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("test"), client.ForceOwnership, client.DryRunAll)
			if err != nil {
				t.Errorf("components %v: %s/%s: %v", components, u.GetKind(), u.GetName(), err)
			}
		}
	}
}

func TestKubernetesMinimum(t *testing.T) {
	for v, ok := range map[string]bool{"v1.37.2": true, "v1.32.0": true, "v1.32.3-gke.100": true, "v1.31.9": false, "v1.20.0": false} {
		if err := checkMinimum(v); (err == nil) != ok {
			t.Errorf("%s: %v", v, err)
		}
	}
}

// weirAt runs weir against the kubeconfig at path.
func weirAt(t *testing.T, kubeconfig string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Execute(append([]string{"--kubeconfig", kubeconfig}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// playControllerManager sets the status of every Deployment in namespace as
// kube-controller-manager does once its Pods are ready (this control plane runs none), until
// ctx ends.
func playControllerManager(ctx context.Context, c client.Client, namespace string) {
	for ctx.Err() == nil {
		var list appsv1.DeploymentList
		if err := c.List(ctx, &list, client.InNamespace(namespace)); err == nil {
			for _, d := range list.Items {
				if d.Status.ObservedGeneration == d.Generation {
					continue
				}
				d.Status = appsv1.DeploymentStatus{
					ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
					Conditions: []appsv1.DeploymentCondition{
						{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
						{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
					},
				}
				_ = c.Status().Update(ctx, &d)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestInstallLifecycle installs into another namespace than weir-system, upgrades, adds the
// lockdown component, refuses what it must, and uninstalls while keeping what Weir applied.
// It runs on a control plane of its own: uninstall removes the CRDs.
func TestInstallLifecycle(t *testing.T) {
	e, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kc := e.KubeconfigPath

	// A user who is no cluster administrator is refused before anything is applied.
	code, _, errOut := weirAt(t, kc, "--as", "jane", "install", "--namespace", "gitops")
	if code != 1 || !strings.Contains(errOut, "needs a cluster administrator") || !strings.Contains(errOut, "may not create customresourcedefinitions.apiextensions.k8s.io") {
		t.Fatalf("install as jane: code %d, %q", code, errOut)
	}
	if err := e.Client.Get(ctx, client.ObjectKey{Name: "gitops"}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the refused install created the namespace: %v", err)
	}

	// Without a kube-controller-manager nothing becomes ready: the wait times out, naming why.
	code, out, errOut := weirAt(t, kc, "install", "--namespace", "gitops", "--version", "v0.1.0", "--timeout", "3s")
	if code != 1 || !strings.Contains(errOut, "not ready after 3s") || !strings.Contains(out, "✗ source-controller:") || !strings.Contains(out, "no Pods yet") {
		t.Fatalf("install without a controller manager: code %d, %q\n%s", code, errOut, out)
	}

	go playControllerManager(ctx, e.Client, "gitops")
	code, out, errOut = weirAt(t, kc, "install", "--namespace", "gitops", "--version", "v0.1.0")
	if code != 0 {
		t.Fatalf("install: code %d, %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"Weir v0.1.0 is installed in gitops: applying it again", "✔ source-controller ready (weir/source-controller:v0.1.0)",
		"✔ notification-controller ready", "✔ Weir is installed in gitops"} {
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q:\n%s", want, out)
		}
	}
	crb := &rbacv1.ClusterRoleBinding{}
	if err := e.Client.Get(ctx, client.ObjectKey{Name: "kustomize-controller"}, crb); err != nil || crb.Subjects[0].Namespace != "gitops" {
		t.Fatalf("kustomize-controller's binding: %v %+v", err, crb.Subjects)
	}

	// Another namespace next to it is refused; nothing is applied.
	code, _, errOut = weirAt(t, kc, "install", "--namespace", "other")
	if code != 1 || !strings.Contains(errOut, "already installed in namespace gitops") {
		t.Errorf("second install elsewhere: code %d, %q", code, errOut)
	}
	if err := e.Client.Get(ctx, client.ObjectKey{Name: "other"}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
		t.Errorf("the refused install created its namespace: %v", err)
	}

	// An upgrade that adds lockdown removes the cluster-admin bindings.
	code, out, errOut = weirAt(t, kc, "install", "--namespace", "gitops", "--version", "v0.2.0", "--components", "lockdown")
	if code != 0 {
		t.Fatalf("upgrade: code %d, %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"upgrading Weir in gitops from v0.1.0 to v0.2.0", "✔ removed ClusterRoleBinding/kustomize-controller-cluster-reconciler",
		"✔ removed ClusterRoleBinding/helm-controller-cluster-reconciler", "✔ kustomize-controller ready (weir/kustomize-controller:v0.2.0)"} {
		if !strings.Contains(out, want) {
			t.Errorf("upgrade output lacks %q:\n%s", want, out)
		}
	}
	checkUserRoles(ctx, t, e)
	code, out, _ = weirAt(t, kc, "version")
	if code != 0 || !strings.Contains(out, "helm-controller v0.2.0 (namespace gitops, image weir/helm-controller:v0.2.0)") {
		t.Errorf("version: code %d\n%s", code, out)
	}

	// What Weir applied: a ConfigMap in a Kustomization's inventory. The Kustomization has
	// the finalizer that would prune it if a controller handled its deletion.
	app := e.Namespace(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: app, Name: "applied"}}
	if err := e.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	ks := kustomization(app, "app", "repo", ready(metav1.ConditionTrue, "ReconciliationSucceeded", "applied"), "main@sha1:1")
	ks.Finalizers = []string{"weir.dev/finalizer"}
	ks.Status.Inventory = &meta.ResourceInventory{Entries: []meta.ResourceRef{{ID: app + "_applied__ConfigMap", Version: "v1"}}}
	e.CreateWithStatus(t, ks)

	code, out, errOut = weirAt(t, kc, "uninstall", "--dry-run")
	if code != 0 || !strings.Contains(out, "would stop kustomize-controller") || !strings.Contains(out, "would delete namespace gitops") ||
		!strings.Contains(out, "manage 1 objects") {
		t.Fatalf("uninstall --dry-run: code %d, %q\n%s", code, errOut, out)
	}
	if err := e.Client.Get(ctx, client.ObjectKeyFromObject(ks), ks); err != nil || len(ks.Finalizers) == 0 {
		t.Fatalf("the dry run changed the Kustomization: %v %v", err, ks.Finalizers)
	}

	code, out, errOut = weirAt(t, kc, "uninstall")
	if code != 0 {
		t.Fatalf("uninstall: code %d, %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"✔ stopped the controllers in gitops", "✔ removed the finalizers of 1 of 1 Weir objects",
		"✔ deleted 12 CRDs", "✔ deleted namespace gitops", "what it applied is still there"} {
		if !strings.Contains(out, want) {
			t.Errorf("uninstall output lacks %q:\n%s", want, out)
		}
	}
	if err := e.Client.Get(ctx, client.ObjectKeyFromObject(cm), cm); err != nil {
		t.Errorf("uninstall removed what Weir applied: %v", err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		err := e.Client.Get(ctx, client.ObjectKey{Name: "kustomizations.kustomize.weir.dev"}, &apiextensionsv1.CustomResourceDefinition{})
		if !apierrors.IsNotFound(err) {
			return errorf("the Kustomization CRD is still there: %v", err)
		}
		return nil
	})
	for _, name := range []string{"kustomize-controller", "weir-view"} {
		if err := e.Client.Get(ctx, client.ObjectKey{Name: name}, &rbacv1.ClusterRole{}); !apierrors.IsNotFound(err) {
			t.Errorf("ClusterRole %s survived: %v", name, err)
		}
	}
}

// checkUserRoles binds weir-view and weir-edit to two users and checks what each may do with
// Weir's kinds (the aggregation into view, edit and admin is kube-controller-manager's).
func checkUserRoles(ctx context.Context, t *testing.T, e *testenv.Environment) {
	t.Helper()
	for user, role := range map[string]string{"viewer": "weir-view", "editor": "weir-edit"} {
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "test-" + user},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: user}},
		}
		if err := e.Client.Create(ctx, crb); err != nil {
			t.Fatal(err)
		}
	}
	can := func(user, verb, resource string) bool {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               user,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: "kustomize.weir.dev", Resource: resource, Namespace: "apps"},
		}}
		if err := e.Client.Create(ctx, sar); err != nil {
			t.Fatal(err)
		}
		return sar.Status.Allowed
	}
	for _, c := range []struct {
		user, verb, resource string
		want                 bool
	}{
		{"viewer", "list", "kustomizations", true}, {"viewer", "watch", "kustomizations", true},
		{"viewer", "patch", "kustomizations", false}, {"editor", "patch", "kustomizations", true},
		{"editor", "delete", "kustomizations", true}, {"editor", "patch", "kustomizations/status", false},
	} {
		if got := can(c.user, c.verb, c.resource); got != c.want {
			t.Errorf("%s may %s %s: %v, want %v", c.user, c.verb, c.resource, got, c.want)
		}
	}
}
