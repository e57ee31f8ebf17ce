package bootstrap

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/gittestserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

const ns = "weir-system"

var syncKey = client.ObjectKey{Namespace: ns, Name: "weir-system"}

// TestBootstrapRefusals runs first, on a cluster without Weir's Deployments: each refusal
// leaves the repository and the cluster as they were.
func TestBootstrapRefusals(t *testing.T) {
	ctx := context.Background()

	t.Run("a wrong password is refused naming the URL, without the password", func(t *testing.T) {
		if err := writeFile("wrong", "not-the-password\n"); err != nil {
			t.Fatal(err)
		}
		args := httpArgs("refused.git", "clusters/dev")
		args[slices.Index(args, filepath.Join(dir, "password"))] = filepath.Join(dir, "wrong")
		code, out := weir(t, args...)
		url := git.HTTPAddress() + "/refused.git"
		if code == 0 || !strings.Contains(out, "cloning "+url+": authentication required") {
			t.Fatalf("exit %d, want a refusal naming %s", code, url)
		}
		if strings.Contains(out, "not-the-password") {
			t.Error("the output shows the password")
		}
		if h := head(t, "refused.git"); h != "" {
			t.Errorf("something was pushed: %s", h)
		}
	})

	t.Run("a repository that takes no push is refused naming the URL", func(t *testing.T) {
		protected := gittestserver.NewGitServer(t.TempDir()).AutoCreate().InstallUpdateHook("#!/bin/sh\necho protected >&2\nexit 1\n")
		protected.Auth(gitUser, gitPassword)
		if err := protected.StartHTTP(); err != nil {
			t.Fatal(err)
		}
		defer protected.StopHTTP()
		args := httpArgs("x.git", "clusters/dev")
		url := protected.HTTPAddress() + "/fleet.git"
		args[slices.Index(args, git.HTTPAddress()+"/x.git")] = url
		code, out := weir(t, args...)
		if code == 0 || !strings.Contains(out, "pushing to "+url+": the server refused the push of main") || strings.Contains(out, gitPassword) {
			t.Fatalf("exit %d, want a refusal naming %s without the password", code, url)
		}
		if err := env.Client.Get(ctx, syncKey, &kustomizev1.Kustomization{}); !apierrors.IsNotFound(err) {
			t.Errorf("the Kustomization weir-system: %v, want none", err)
		}
	})

	t.Run("a path holding other files is refused, listing them", func(t *testing.T) {
		before := seed(t, "foreign.git", map[string]string{
			"clusters/dev/apps.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: apps, namespace: default}\n",
			"clusters/dev/infra/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: infra, namespace: default}\n",
			"README.md":                      "fleet\n",
		})
		code, out := weir(t, httpArgs("foreign.git", "clusters/dev")...)
		if code == 0 || !strings.Contains(out, "--path clusters/dev already holds files weir bootstrap did not write: clusters/dev/apps.yaml, clusters/dev/infra/config.yaml;") {
			t.Fatalf("exit %d, want a refusal listing the two files", code)
		}
		if h := head(t, "foreign.git"); h != before {
			t.Errorf("the branch moved: %s, was %s", h, before)
		}
	})

	t.Run("an unknown SSH host is refused", func(t *testing.T) {
		key, _ := sshKey(t)
		empty := filepath.Join(t.TempDir(), "known_hosts")
		if err := writeFileAt(empty, ""); err != nil {
			t.Fatal(err)
		}
		code, out := weir(t, "bootstrap", "git", "--url", git.SSHAddress()+"/refused.git", "--path", "clusters/dev",
			"--private-key-file", key, "--ssh-known-hosts-file", empty, "--wait-for-controllers=false")
		if code == 0 || !strings.Contains(out, "is not in --ssh-known-hosts-file") {
			t.Fatalf("exit %d, want an unknown-host refusal", code)
		}
	})

	t.Run("another installed Weir version is refused without --force", func(t *testing.T) {
		// Weir v0.0.9 installed by `weir install`; TestBootstrapHTTP takes it over with --force.
		if code, _ := weir(t, "install", "--version", "v0.0.9", "--wait=false"); code != 0 {
			t.Fatalf("weir install: exit %d", code)
		}
		code, out := weir(t, httpArgs("fleet.git", "clusters/dev", "--version", "v0.1.0")...)
		if code == 0 || !strings.Contains(out, "Weir v0.0.9 runs in weir-system (Deployment helm-controller), installed otherwise than by weir bootstrap: bootstrapping v0.1.0 would replace it") ||
			!strings.Contains(out, "--force") {
			t.Fatalf("exit %d, want a refusal naming both versions and --force", code)
		}
		if h := head(t, "fleet.git"); h != "" {
			t.Errorf("something was pushed: %s", h)
		}
		if err := env.Client.Get(ctx, syncKey, &kustomizev1.Kustomization{}); !apierrors.IsNotFound(err) {
			t.Errorf("the Kustomization weir-system: %v, want none", err)
		}
	})
}

// TestBootstrapHTTP bootstraps over HTTP basic auth into an empty repository, taking over the
// Weir `weir install` left (--force), then follows a patch committed to Git, re-runs (nothing
// to commit) and upgrades.
func TestBootstrapHTTP(t *testing.T) {
	ctx := context.Background()

	code, out := weir(t, httpArgs("fleet.git", "clusters/dev", "--version", "v0.1.0", "--force")...)
	if code != 0 || !strings.Contains(out, "replacing Weir v0.0.9 in weir-system with v0.1.0 (--force)") {
		t.Fatalf("bootstrap: exit %d, want the takeover of v0.0.9", code)
	}
	first := head(t, "fleet.git")
	if first == "" || !strings.Contains(out, "committed and pushed Weir v0.1.0 to clusters/dev/weir-system (main@sha1:"+first+")") {
		t.Fatalf("head %q; the output does not report the push of it", first)
	}
	syncedAt(t, "main@sha1:"+first)
	files := allFiles(t, "fleet.git")
	for _, p := range []string{"clusters/dev/weir-system/weir-components.yaml", "clusters/dev/weir-system/weir-sync.yaml", "clusters/dev/weir-system/kustomization.yaml"} {
		if _, ok := files[p]; !ok {
			t.Errorf("%s was not committed; the repository has %v", p, keysOf(files))
		}
	}
	for p, c := range files {
		if strings.Contains(c, gitPassword) {
			t.Errorf("%s holds the password", p)
		}
	}
	// Weir's own Deployments are the Kustomization's, at the pinned version.
	d := deployment(t, "source-controller")
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "weir/source-controller:v0.1.0" {
		t.Errorf("source-controller runs %s", img)
	}
	if d.Labels["kustomize.weir.dev/name"] != "weir-system" {
		t.Errorf("source-controller's labels: %v", d.Labels)
	}
	secret := &corev1.Secret{}
	if err := env.Client.Get(ctx, syncKey, secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["username"]) != gitUser || string(secret.Data["password"]) != gitPassword {
		t.Errorf("the Secret holds %v", keysOf(secret.Data))
	}

	// A patch committed to the cluster's kustomization.yaml reaches Weir's own Deployment: an
	// argument added, and a label the install set removed. The removal shows the Kustomization
	// alone owns what bootstrap applied: had bootstrap applied as another field manager, or left
	// `weir install`'s in place, that manager would keep the label.
	patched := commit(t, "fleet.git", "Debug logs for kustomize-controller", func(fs *workingCopy) {
		p := "clusters/dev/weir-system/kustomization.yaml"
		fs.write(p, fs.read(p)+`patches:
- target: {kind: Deployment, name: kustomize-controller}
  patch: |
    - op: add
      path: /spec/template/spec/containers/0/args/-
      value: --log-level=debug
    - op: remove
      path: /metadata/labels/app.kubernetes.io~1name
`)
	})
	requestSync(t)
	syncedAt(t, "main@sha1:"+patched)
	eventually(t, time.Minute, "kustomize-controller's Deployment follows the patch", func() error {
		d := deployment(t, "kustomize-controller")
		if args := d.Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--log-level=debug") {
			return fmt.Errorf("args %v", args)
		}
		if v, ok := d.Labels["app.kubernetes.io/name"]; ok {
			return fmt.Errorf("the label app.kubernetes.io/name=%s removed in Git stays; managers: %v", v, managers(d))
		}
		return nil
	})
	versions := resourceVersions(t)

	// Again, unchanged: nothing is committed, and the user's patch stays.
	code, out = weir(t, httpArgs("fleet.git", "clusters/dev", "--version", "v0.1.0")...)
	if code != 0 || !strings.Contains(out, "no changes: clusters/dev/weir-system already holds Weir v0.1.0 (main@sha1:"+patched+")") {
		t.Fatalf("re-run: exit %d, want no changes", code)
	}
	if h := head(t, "fleet.git"); h != patched {
		t.Fatalf("the re-run moved main to %s", h)
	}
	// Nor does it change the cluster: once the sync it asked for is done, Weir's Deployments are
	// as they were (the applied objects are byte-identical to the Kustomization's).
	handled(t)
	if after := resourceVersions(t); !maps.Equal(after, versions) {
		t.Errorf("the re-run changed Deployments: resourceVersions %v, were %v", after, versions)
	}
	if args := deployment(t, "kustomize-controller").Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--log-level=debug") {
		t.Errorf("the re-run dropped the patch: %v", args)
	}

	// Another version: a new commit with the new tags, which Weir applies to itself.
	code, out = weir(t, httpArgs("fleet.git", "clusters/dev", "--version", "v0.2.0")...)
	upgraded := head(t, "fleet.git")
	if code != 0 || upgraded == patched || !strings.Contains(out, "upgrading Weir in weir-system from v0.1.0 to v0.2.0, through Git") {
		t.Fatalf("upgrade: exit %d, head %s", code, upgraded)
	}
	if c := readRepo(t, "fleet.git", "clusters/dev/weir-system/weir-components.yaml"); !strings.Contains(c, "image: weir/helm-controller:v0.2.0") || strings.Contains(c, ":v0.1.0") {
		t.Error("weir-components.yaml does not pin v0.2.0 alone")
	}
	syncedAt(t, "main@sha1:"+upgraded)
	for _, name := range []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller"} {
		d := deployment(t, name)
		if img := d.Spec.Template.Spec.Containers[0].Image; img != "weir/"+name+":v0.2.0" {
			t.Errorf("%s runs %s after the upgrade", name, img)
		}
	}
	if args := deployment(t, "kustomize-controller").Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--log-level=debug") {
		t.Errorf("the upgrade dropped the patch: %v", args)
	}
}

// TestBootstrapSSH moves the cluster's sync to the same repository over SSH, with a key and
// known_hosts: the Secret then holds them, and Weir syncs from the SSH URL.
func TestBootstrapSSH(t *testing.T) {
	ctx := context.Background()
	key, knownHosts := sshKey(t)
	url := git.SSHAddress() + "/fleet.git"
	code, out := weir(t, "bootstrap", "git", "--url", url, "--branch", "main", "--path", "clusters/dev",
		"--private-key-file", key, "--ssh-known-hosts-file", knownHosts, "--version", "v0.2.0",
		"--wait-for-controllers=false", "--timeout", "3m")
	if code != 0 || !strings.Contains(out, "committed and pushed") {
		t.Fatalf("exit %d, want a commit of the new URL", code)
	}
	syncedAt(t, "main@sha1:"+head(t, "fleet.git"))
	repo := &sourcev1.GitRepository{}
	if err := env.Client.Get(ctx, syncKey, repo); err != nil {
		t.Fatal(err)
	}
	if repo.Spec.URL != url {
		t.Errorf("the GitRepository fetches %s", repo.Spec.URL)
	}
	secret := &corev1.Secret{}
	if err := env.Client.Get(ctx, syncKey, secret); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(secret.Data); !slices.Equal(got, []string{"identity", "known_hosts"}) {
		t.Errorf("the Secret holds %v, want identity and known_hosts", got)
	}
}

// syncedAt waits until the Kustomization weir-system is Ready having applied revision.
func syncedAt(t *testing.T, revision string) {
	t.Helper()
	eventually(t, 3*time.Minute, "the Kustomization weir-system applies "+revision, func() error {
		ks := &kustomizev1.Kustomization{}
		if err := env.Client.Get(context.Background(), syncKey, ks); err != nil {
			return err
		}
		ready := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReadyCondition)
		switch {
		case ks.Status.LastAppliedRevision != revision:
			return fmt.Errorf("applied %q (Ready %v)", ks.Status.LastAppliedRevision, ready)
		case ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != ks.Generation:
			return fmt.Errorf("not Ready: %v", ready)
		}
		return nil
	})
}

// handled waits until the Kustomization weir-system has handled the last reconcile request
// and is Ready.
func handled(t *testing.T) {
	t.Helper()
	eventually(t, 2*time.Minute, "the Kustomization weir-system handles the request", func() error {
		ks := &kustomizev1.Kustomization{}
		if err := env.Client.Get(context.Background(), syncKey, ks); err != nil {
			return err
		}
		asked := ks.Annotations[meta.ReconcileRequestAnnotation]
		if asked == "" || ks.Status.LastHandledReconcileAt != asked {
			return fmt.Errorf("asked %q, handled %q", asked, ks.Status.LastHandledReconcileAt)
		}
		if ready := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReadyCondition); ready == nil || ready.Status != metav1.ConditionTrue {
			return fmt.Errorf("not Ready: %v", ready)
		}
		return nil
	})
}

// resourceVersions returns the resourceVersion of each of Weir's Deployments.
func resourceVersions(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller"} {
		out[name] = deployment(t, name).ResourceVersion
	}
	return out
}

// managers returns the field managers of o, for messages.
func managers(o client.Object) []string {
	var out []string
	for _, m := range o.GetManagedFields() {
		out = append(out, m.Manager+"/"+string(m.Operation))
	}
	return out
}

// requestSync asks the GitRepository weir-system to fetch now, as a webhook Receiver would.
func requestSync(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	repo := &sourcev1.GitRepository{}
	if err := env.Client.Get(ctx, syncKey, repo); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(repo.DeepCopy())
	if repo.Annotations == nil {
		repo.Annotations = map[string]string{}
	}
	repo.Annotations[meta.ReconcileRequestAnnotation] = time.Now().Format(time.RFC3339Nano)
	if err := env.Client.Patch(ctx, repo, patch); err != nil {
		t.Fatal(err)
	}
}

func deployment(t *testing.T, name string) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
		t.Fatal(err)
	}
	return d
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
