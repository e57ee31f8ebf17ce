package preview_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/ssa"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/cli/internal/cmd"
	"weir.dev/cli/internal/preview"
)

// secretValue is substituted into a built Secret; it must never be printed.
const secretValue = "hunter2-topsecret"

// appDir writes the local directory the Kustomization's spec.path stands for.
func appDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: ${COLOR}\n  size: ${SIZE:=small}\n",
		"token.yaml":    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  password: ${PASSWORD}\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// weir runs the weir command against the test cluster.
func weir(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = cmd.Execute(append(args, "--kubeconfig", env.KubeconfigPath), &out, &errOut)
	return code, out.String(), errOut.String()
}

// setup creates the Kustomization apps in a new namespace, with its substituteFrom ConfigMap
// and Secret and a patch, and an inventory naming the ConfigMap old, which the build lacks.
func setup(t *testing.T) (ns string, ks *kustomizev1.Kustomization) {
	t.Helper()
	ctx := context.Background()
	ns = env.Namespace(t)
	for _, obj := range []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "vars", Namespace: ns}, Data: map[string]string{"COLOR": "red"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: ns}, StringData: map[string]string{"PASSWORD": secretValue}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: ns, Labels: map[string]string{
			"kustomize.weir.dev/name": "apps", "kustomize.weir.dev/namespace": ns,
		}}},
	} {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	ks = &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef:       kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"},
			Path:            "./apps",
			Interval:        metav1.Duration{Duration: time.Minute},
			Prune:           true,
			TargetNamespace: ns,
			Patches: []meta.Patch{{
				Patch:  `[{"op": "add", "path": "/metadata/labels", "value": {"tier": "web"}}]`,
				Target: &meta.Selector{Kind: "ConfigMap"},
			}},
			PostBuild: &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{
				{Kind: "ConfigMap", Name: "vars"}, {Kind: "Secret", Name: "creds"},
			}},
		},
	}
	if err := env.Client.Create(ctx, ks); err != nil {
		t.Fatal(err)
	}
	ks.Status.Inventory = &meta.ResourceInventory{Entries: []meta.ResourceRef{{ID: ns + "_old__ConfigMap", Version: "v1"}}}
	if err := env.Client.Status().Update(ctx, ks); err != nil {
		t.Fatal(err)
	}
	return ns, ks
}

func TestBuildKustomization(t *testing.T) {
	ns, _ := setup(t)
	dir := appDir(t)
	code, out, errOut := weir("build", "kustomization", "apps", "--path", dir, "-n", ns)
	if code != 0 {
		t.Fatalf("weir build: code %d, stderr %s", code, errOut)
	}
	for _, want := range []string{
		"color: red", "size: small", "tier: web", "namespace: " + ns,
		"kustomize.weir.dev/name: apps", "kustomize.weir.dev/namespace: " + ns,
		"password: '***'", "\n---\n", "# Source: settings.yaml:1\n", "# Source: token.yaml:1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, secretValue) {
		t.Errorf("build output shows a Secret value:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); !os.IsNotExist(err) {
		t.Errorf("the build wrote into --path: %v", err)
	}

	code, _, errOut = weir("build", "kustomization", "nope", "--path", dir, "-n", ns)
	if code != 1 || !strings.Contains(errOut, "Kustomization '"+ns+"/nope' not found") {
		t.Errorf("a missing Kustomization: code %d, stderr %s", code, errOut)
	}
}

func TestBuildKustomizationDryRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "apps.yaml")
	manifest := `apiVersion: kustomize.weir.dev/v1
kind: Kustomization
metadata:
  name: apps
  namespace: weir-system
spec:
  interval: 5m
  prune: true
  path: ./apps
  sourceRef: {kind: GitRepository, name: repo}
  targetNamespace: prod
  postBuild:
    substitute: {COLOR: green, PASSWORD: ` + secretValue + `}
`
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	// No --kubeconfig: a dry run needs no cluster.
	code := cmd.Execute([]string{"build", "ks", "apps", "--path", appDir(t), "--dry-run", "--kustomization-file", file}, &out, &errOut)
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, errOut.String())
	}
	for _, want := range []string{"color: green", "namespace: prod", "kustomize.weir.dev/namespace: weir-system"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), secretValue) {
		t.Errorf("output shows a Secret value:\n%s", out.String())
	}
}

func TestDiffKustomization(t *testing.T) {
	ctx := context.Background()
	ns, ks := setup(t)
	dir := appDir(t)
	secretish := []string{secretValue, "aHVudGVyMi10b3BzZWNyZXQ"} // and its base64

	// Nothing applied yet: two objects to create, the inventory's old one to prune.
	code, out, errOut := weir("diff", "kustomization", "apps", "--path", dir, "-n", ns)
	if code != 1 {
		t.Fatalf("weir diff before any apply: code %d, want 1; stderr %s", code, errOut)
	}
	for _, want := range []string{
		"► settings.yaml:1: ConfigMap/" + ns + "/settings created", "+  color: red",
		"► token.yaml:1: Secret/" + ns + "/token created", "+  password: '***'",
		"► ConfigMap/" + ns + "/old deleted", "--- live/ConfigMap/" + ns + "/old", "+++ /dev/null", "--- /dev/null",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}

	// Apply as the controller would, and drop the old object: nothing left to change.
	objects, _, err := preview.Build(ctx, env.Client, ks, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ssa.NewResourceManager(env.Client, nil, preview.Owner).ApplyAll(ctx, objects, ssa.DefaultApplyOptions()); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = weir("diff", "ks", "apps", "--path", dir, "-n", ns)
	if code != 0 || !strings.Contains(out, "► settings.yaml:1: ConfigMap/"+ns+"/settings unchanged") || strings.Contains(out, "@@") {
		t.Fatalf("weir diff after apply: code %d, want 0 and no diff; out:\n%s\nstderr %s", code, out, errOut)
	}

	// Someone edits the live objects: the diff shows the ConfigMap's value and only that the
	// Secret's changed.
	var cm corev1.ConfigMap
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "settings"}, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["color"] = "blue"
	if err := env.Client.Update(ctx, &cm); err != nil {
		t.Fatal(err)
	}
	var secret corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "token"}, &secret); err != nil {
		t.Fatal(err)
	}
	secret.Data["password"] = []byte("edited-by-hand")
	if err := env.Client.Update(ctx, &secret); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = weir("diff", "ks", "apps", "--path", dir, "-n", ns)
	if code != 1 {
		t.Fatalf("weir diff after a live edit: code %d, want 1; stderr %s", code, errOut)
	}
	for _, want := range []string{
		"► settings.yaml:1: ConfigMap/" + ns + "/settings changed", "-  color: blue", "+  color: red",
		"► token.yaml:1: Secret/" + ns + "/token changed", "-  password: '*** (before)'", "+  password: '*** (after)'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
	for _, s := range append(secretish, "edited-by-hand", "ZWRpdGVkLWJ5LWhhbmQ") {
		if strings.Contains(out, s) {
			t.Errorf("diff output shows a Secret value %q:\n%s", s, out)
		}
	}

	// A change under review to the Kustomization itself: without the patch, the label goes.
	file := filepath.Join(t.TempDir(), "apps.yaml")
	manifest := "apiVersion: kustomize.weir.dev/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: " + ns + "}\n" +
		"spec: {interval: 1m, prune: true, path: ./apps, sourceRef: {kind: GitRepository, name: repo}, targetNamespace: " + ns +
		", postBuild: {substituteFrom: [{kind: ConfigMap, name: vars}, {kind: Secret, name: creds}]}}\n"
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = weir("diff", "ks", "apps", "--path", dir, "--kustomization-file", file)
	if code != 1 || !strings.Contains(out, "-    tier: web") {
		t.Errorf("weir diff --kustomization-file: code %d, want 1 and the label removed; out:\n%s\nstderr %s", code, out, errOut)
	}

	code, _, errOut = weir("diff", "ks", "apps", "--path", filepath.Join(dir, "missing"), "-n", ns)
	if code != 2 || errOut == "" {
		t.Errorf("weir diff of a missing --path: code %d, want 2; stderr %s", code, errOut)
	}
}

func TestDiffNewNamespaceKindAndEncryptedSecret(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	dir := t.TempDir()
	newNS := ns + "-new"
	crd := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.weir.dev
spec:
  group: example.weir.dev
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`
	app := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + newNS + "\n---\n" +
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: " + newNS + "\ndata: {a: b}\n---\n" +
		"apiVersion: example.weir.dev/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: " + ns + "\nspec: {size: 3}\n---\n" +
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: " + ns + "\ndata:\n  password: ENC[AES256_GCM,data:abc=,type:str]\nsops:\n  version: 3.9.0\n"
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "crd.yaml"), []byte(crd), 0o644); err != nil {
		t.Fatal(err)
	}
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "infra", Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"},
			Interval:  metav1.Duration{Duration: time.Minute},
		},
	}
	if err := env.Client.Create(ctx, ks); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := weir("diff", "ks", "infra", "--path", dir, "-n", ns)
	if code != 1 {
		t.Fatalf("code %d, want 1; out:\n%s\nstderr %s", code, out, errOut)
	}
	for _, want := range []string{
		"► app.yaml:1: Namespace/" + newNS + " created", "► app.yaml:6: ConfigMap/" + newNS + "/settings created",
		"► crd.yaml:1: CustomResourceDefinition/widgets.example.weir.dev created", "► app.yaml:13: Widget/" + ns + "/w created", "+  size: 3",
		"► app.yaml:20: Secret/" + ns + "/db skipped (SOPS-encrypted)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestBuildOverlayInGitTree(t *testing.T) {
	repo := t.TempDir()
	for name, content := range map[string]string{
		".git/HEAD":                        "ref: refs/heads/main\n",
		"base/kustomization.yaml":          "resources: [cm.yaml]\n",
		"base/cm.yaml":                     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  env: base\n",
		"overlays/prod/kustomization.yaml": "resources: [../../base]\nnamePrefix: prod-\n",
	} {
		p := filepath.Join(repo, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "ks.yaml")
	ks := "apiVersion: kustomize.weir.dev/v1\nkind: Kustomization\nmetadata: {name: prod, namespace: weir-system}\n" +
		"spec: {interval: 1m, prune: true, path: ./overlays/prod, sourceRef: {kind: GitRepository, name: repo}, targetNamespace: prod}\n"
	if err := os.WriteFile(file, []byte(ks), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := cmd.Execute([]string{"build", "ks", "prod", "--path", filepath.Join(repo, "overlays", "prod"), "--dry-run", "--kustomization-file", file}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "name: prod-settings") || !strings.Contains(out.String(), "env: base") ||
		!strings.Contains(out.String(), "# Source: base/cm.yaml:1\n") || strings.Contains(out.String(), "config.kubernetes.io/origin") {
		t.Errorf("code %d, out:\n%s\nstderr %s", code, out.String(), errOut.String())
	}
}
