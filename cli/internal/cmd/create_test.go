package cmd

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/objects"
)

// credentialFiles writes a private key, a known_hosts line, a self-signed certificate with its
// key (also the CA) and a values file into a temporary directory.
type credentialFiles struct {
	key, knownHosts, cert, certKey, values string
}

func writeCredentialFiles(t *testing.T) credentialFiles {
	t.Helper()
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "weir-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	f := credentialFiles{
		key: filepath.Join(dir, "id"), knownHosts: filepath.Join(dir, "known_hosts"),
		cert: filepath.Join(dir, "tls.crt"), certKey: filepath.Join(dir, "tls.key"), values: filepath.Join(dir, "values.yaml"),
	}
	for path, content := range map[string][]byte{
		f.key:        pem.EncodeToMemory(block),
		f.knownHosts: []byte("git.example.com " + string(ssh.MarshalAuthorizedKey(sshPub))),
		f.cert:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		f.certKey:    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		f.values:     []byte("replicaCount: 2\nservice:\n  port: 8080\n"),
	} {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// decodeYAML parses a YAML stream into objects.
func decodeYAML(t *testing.T, y string) []*unstructured.Unstructured {
	t.Helper()
	d := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(y), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := d.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("the output is no YAML stream: %v\n%s", err, y)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// createCases are one call of every `weir create` subcommand, with the kinds it prints.
func createCases(f credentialFiles) []struct {
	args  []string
	kinds []string
} {
	return []struct {
		args  []string
		kinds []string
	}{
		{[]string{"source", "git", "app", "--url", "https://git.example.com/app", "--branch", "main", "--ignore-paths", "docs/,*.md"}, []string{"GitRepository"}},
		{[]string{"source", "git", "app-basic", "--url", "https://git.example.com/app", "--tag", "v1.0.0", "--username", "bot", "--password", "s3cret-value", "--ca-file", f.cert}, []string{"Secret", "GitRepository"}},
		{[]string{"source", "git", "app-ssh", "--url", "ssh://git@git.example.com/app", "--semver", ">=1.0.0", "--private-key-file", f.key, "--ssh-known-hosts", f.knownHosts, "--secret-ref", "ssh-auth"}, []string{"Secret", "GitRepository"}},
		{[]string{"source", "oci", "manifests", "--url", "oci://registry.example.com/manifests", "--tag", "latest", "--secret-ref", "regcred"}, []string{"OCIRepository"}},
		{[]string{"source", "helm", "charts", "--url", "https://charts.example.com", "--interval", "10m", "--label", "team=a"}, []string{"HelmRepository"}},
		{[]string{"source", "helm", "oci-charts", "--url", "oci://registry.example.com/charts", "--oci"}, []string{"HelmRepository"}},
		{[]string{"kustomization", "apps", "--source", "GitRepository/app", "--path", "./deploy", "--prune", "--wait", "--depends-on", "infra,crds.platform",
			"--target-namespace", "apps", "--service-account", "deployer", "--decryption-provider", "sops", "--decryption-secret", "sops-age"}, []string{"Kustomization"}},
		{[]string{"ks", "infra", "--source", "ocirepo/manifests", "--health-check", "Deployment/web.apps"}, []string{"Kustomization"}},
		{[]string{"helmrelease", "podinfo", "--source", "HelmRepository/charts", "--chart", "podinfo", "--chart-version", "6.x", "--values", f.values,
			"--values-from", "ConfigMap/podinfo-values", "--target-namespace", "web", "--create-target-namespace", "--release-name", "podinfo",
			"--service-account", "deployer", "--depends-on", "Kustomization/infra,redis"}, []string{"HelmRelease"}},
		{[]string{"hr", "from-oci", "--chart-ref", "OCIRepository/manifests"}, []string{"HelmRelease"}},
		{[]string{"alert-provider", "slack", "--type", "slack", "--channel", "ops", "--secret-ref", "slack-url"}, []string{"Provider"}},
		{[]string{"alert-provider", "hook", "--type", "generic", "--address", "https://hooks.example.com/weir"}, []string{"Provider"}},
		{[]string{"alert-provider", "oncall", "--type", "pagerduty", "--address", "https://events.pagerduty.com", "--secret-ref", "pd-routing-key"}, []string{"Provider"}},
		{[]string{"receiver", "ci", "--type", "generic-oidc", "--resource", "GitRepository/app", "--secret-ref", "oidc"}, []string{"Receiver"}},
		{[]string{"alert", "ops", "--provider-ref", "slack", "--event-source", "Kustomization/*", "--event-source", "HelmRelease/podinfo", "--event-severity", "error"}, []string{"Alert"}},
		{[]string{"receiver", "github", "--type", "github", "--event", "push", "--resource", "GitRepository/app", "--secret-ref", "webhook-token"}, []string{"Receiver"}},
		{[]string{"secret", "git", "git-auth", "--url", "https://git.example.com/app", "--bearer-token", "t0ken"}, []string{"Secret"}},
		{[]string{"secret", "git", "git-ssh", "--url", "ssh://git@git.example.com/app", "--private-key-file", f.key, "--ssh-known-hosts", f.knownHosts}, []string{"Secret"}},
		{[]string{"secret", "helm", "helm-auth", "--username", "reader", "--password", "pw", "--cert-file", f.cert, "--key-file", f.certKey, "--ca-file", f.cert}, []string{"Secret"}},
		{[]string{"secret", "oci", "regcred", "--url", "registry.example.com", "--username", "bot", "--password", "pw"}, []string{"Secret"}},
		{[]string{"secret", "tls", "client-tls", "--cert-file", f.cert, "--key-file", f.certKey}, []string{"Secret"}},
		{[]string{"tenant", "team-a", "--with-namespace", "team-a"}, []string{"Namespace", "ServiceAccount", "RoleBinding"}},
	}
}

// TestCreateExportReapplies prints every create subcommand's objects with --export and has
// the API server validate each with a server-side dry-run apply.
func TestCreateExportReapplies(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	f := writeCredentialFiles(t)
	for _, tc := range createCases(f) {
		args := append(append([]string{"create"}, tc.args...), "--export", "-n", ns)
		code, out, errOut := weir(t, args...)
		if code != 0 {
			t.Errorf("%v: code %d, %q", tc.args, code, errOut)
			continue
		}
		objs := decodeYAML(t, out)
		var kinds []string
		for _, u := range objs {
			kinds = append(kinds, u.GetKind())
			if _, has := u.Object["status"]; has {
				t.Errorf("%v: %s has a status", tc.args, objects.Ref(u))
			}
			if _, has, _ := unstructured.NestedFieldNoCopy(u.Object, "metadata", "creationTimestamp"); has {
				t.Errorf("%v: %s has a creationTimestamp", tc.args, objects.Ref(u))
			}
			if u.GetKind() == "Namespace" {
				continue // a tenant's: applying it is the tenant test's
			}
			if u.GetKind() != "Namespace" && u.GetNamespace() == "" && tc.args[0] == "tenant" {
				t.Errorf("%v: %s is cluster-scoped", tc.args, objects.Ref(u))
			}
			if tc.args[0] != "tenant" && u.GetNamespace() != ns {
				t.Errorf("%v: %s is not in -n %s", tc.args, objects.Ref(u), ns)
			}
			target := u
			if tc.args[0] == "tenant" {
				target = u.DeepCopy()
				target.SetNamespace(ns) // the tenant's namespace does not exist; the objects are checked here
			}
			if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(target), client.FieldOwner("weir"), client.ForceOwnership, client.DryRunAll); err != nil {
				t.Errorf("%v: dry-run apply of %s: %v\n%s", tc.args, objects.Ref(u), err, out)
			}
		}
		if strings.Join(kinds, ",") != strings.Join(tc.kinds, ",") {
			t.Errorf("%v: kinds %v, want %v", tc.args, kinds, tc.kinds)
		}
	}
	// Nothing was created by --export.
	var repos sourcev1.GitRepositoryList
	if err := env.Client.List(ctx, &repos, client.InNamespace(ns)); err != nil || len(repos.Items) != 0 {
		t.Errorf("--export created objects: %v %d", err, len(repos.Items))
	}
}

// TestCreateExportNeedsNoCluster prints an export without a kubeconfig: the namespace is
// -n's, else "default".
func TestCreateExportNeedsNoCluster(t *testing.T) {
	var out, errOut strings.Builder
	code := Execute([]string{"--kubeconfig", "/nonexistent/kubeconfig", "create", "source", "helm", "charts", "--url", "https://charts.example.com", "--export"}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "namespace: default") {
		t.Errorf("code %d, %q\n%s", code, errOut.String(), out.String())
	}
}

// TestCreateExportContent checks what some exports say: the fields the flags set, values merged
// from a file, and the Secrets' keys, which are those source-controller reads.
func TestCreateExportContent(t *testing.T) {
	f := writeCredentialFiles(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"kustomization", "apps", "--source", "GitRepository/app.platform", "--path", "./deploy", "--prune", "--depends-on", "infra"},
			[]string{"sourceRef:\n    kind: GitRepository\n    name: app\n    namespace: platform", "path: ./deploy", "prune: true", "dependsOn:\n  - name: infra", "interval: 1m0s"}},
		{[]string{"helmrelease", "podinfo", "--source", "HelmRepository/charts", "--chart", "podinfo", "--values", f.values},
			[]string{"values:\n    replicaCount: 2\n    service:\n      port: 8080", "chart: podinfo", "kind: HelmRepository"}},
		{[]string{"source", "git", "app", "--url", "https://git.example.com/app", "--username", "bot", "--password", "pw"},
			[]string{"kind: Secret", "password: cHc=", "username: Ym90", "secretRef:\n    name: app"}},
		{[]string{"source", "git", "app", "--url", "ssh://git@git.example.com/app", "--private-key-file", f.key, "--ssh-known-hosts", f.knownHosts},
			[]string{"identity: ", "known_hosts: ", "url: ssh://git@git.example.com/app"}},
		{[]string{"secret", "oci", "regcred", "--url", "oci://registry.example.com/app", "--username", "bot", "--password", "pw"},
			[]string{"type: kubernetes.io/dockerconfigjson", ".dockerconfigjson: "}},
		{[]string{"alert-provider", "oncall", "--type", "pagerduty", "--address", "https://events.pagerduty.com", "--secret-ref", "pd-routing-key"},
			[]string{"type: pagerduty", "address: https://events.pagerduty.com", "secretRef:\n    name: pd-routing-key"}},
	} {
		code, out, errOut := weir(t, append(append([]string{"create"}, tc.args...), "--export", "-n", "apps")...)
		if code != 0 {
			t.Errorf("%v: code %d, %q", tc.args, code, errOut)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: the export lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
}

// TestCreateRefusesBadFlags checks that mistakes are named by their flag, and nothing is
// applied.
func TestCreateRefusesBadFlags(t *testing.T) {
	ns := env.Namespace(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"source", "git", "app"}, "--url is required"},
		{[]string{"source", "git", "app", "--url", "git@github.com:acme/app"}, "ssh://user@host/path"},
		{[]string{"source", "git", "app", "--url", "https://bot:pw@git.example.com/app"}, "--url holds a password"},
		{[]string{"source", "git", "app", "--url", "ssh://git@git.example.com/app"}, "needs credentials"},
		{[]string{"source", "git", "app", "--url", "https://git.example.com/app", "--tag", "v1", "--semver", "1.x"}, "--tag and --semver exclude each other"},
		{[]string{"source", "git", "app", "--url", "https://git.example.com/app", "--interval", "0s"}, "--interval must be positive"},
		{[]string{"source", "git", "App", "--url", "https://git.example.com/app"}, `GitRepository name "App"`},
		{[]string{"source", "oci", "m", "--url", "oci://r.example.com/m"}, "give one of --tag, --semver and --digest"},
		{[]string{"source", "helm", "h", "--url", "oci://r.example.com/charts"}, "add --oci"},
		{[]string{"kustomization", "apps"}, "--source is required"},
		{[]string{"kustomization", "apps", "--source", "HelmRepository/x"}, `kind "HelmRepository" is not one of GitRepository, OCIRepository`},
		{[]string{"kustomization", "apps", "--source", "GitRepository/"}, "no name"},
		{[]string{"kustomization", "apps", "--source", "app", "--path", "../other"}, "leaves the source's root"},
		{[]string{"kustomization", "apps", "--source", "app", "--health-check", "web"}, "--health-check \"web\": no kind"},
		{[]string{"kustomization", "apps", "--source", "app", "--decryption-provider", "vault"}, "the only provider is sops"},
		{[]string{"helmrelease", "web"}, "give --source and --chart"},
		{[]string{"helmrelease", "web", "--source", "HelmRepository/charts", "--chart", "./web"}, "a HelmRepository's chart is a chart name"},
		{[]string{"helmrelease", "web", "--chart-ref", "OCIRepository/x", "--chart", "web"}, "--chart-ref excludes"},
		{[]string{"helmrelease", "web", "--source", "HelmRepository/charts", "--chart", "web", "--values", "/nonexistent/values.yaml"}, "--values: stat /nonexistent/values.yaml"},
		{[]string{"helmrelease", "web", "--source", "HelmRepository/charts", "--chart", "web", "--values-from", "Deployment/v"}, `--values-from "Deployment/v": kind "Deployment" is not one of ConfigMap, Secret`},
		{[]string{"alert-provider", "p", "--type", "pager"}, `--type "pager": want one of slack`},
		{[]string{"alert-provider", "p", "--type", "slack"}, "give --address, or --secret-ref"},
		{[]string{"alert", "a", "--provider-ref", "p"}, "--event-source is required"},
		{[]string{"alert", "a", "--provider-ref", "p", "--event-source", "Deployment/web"}, `kind "Deployment" is not one of`},
		{[]string{"receiver", "r", "--type", "github", "--resource", "GitRepository/app"}, "--secret-ref is required"},
		{[]string{"secret", "git", "s", "--url", "https://git.example.com/app", "--username", "bot"}, "--username needs --password"},
		{[]string{"secret", "git", "s", "--url", "ssh://git@git.example.com/app", "--private-key-file", "/etc/hostname", "--ssh-known-hosts", "/etc/hostname"}, "not a PEM private key"},
		{[]string{"secret", "tls", "s", "--cert-file", "/etc/hostname"}, "--cert-file and --key-file go together"},
		{[]string{"secret", "oci", "s", "--url", "ghcr.io"}, "--username and --password are required"},
		{[]string{"tenant", "team-a"}, "at least one namespace (--with-namespace)"},
		{[]string{"tenant", "team-a", "--with-namespace", "a,a"}, `namespace "a" is given twice`},
		{[]string{"source", "git"}, "give the GitRepository's name"},
		{[]string{"source", "git", "app", "--url", "https://git.example.com/app", "--label", "team"}, `--label "team": want key=value`},
	} {
		code, out, errOut := weir(t, append(append([]string{"create"}, tc.args...), "-n", ns, "--timeout", "1s")...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: code %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
		if strings.Contains(out, "applied") {
			t.Errorf("%v: something was applied:\n%s", tc.args, out)
		}
	}
}

// playReadiness stands in for the controllers, none of which runs in the test control plane:
// until the test ends it gives every Weir object in ns that its controller has not observed
// the conditions result returns, as of the object's generation.
func playReadiness(t *testing.T, ns string, result func(u *unstructured.Unstructured) []metav1.Condition) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			for _, k := range objects.Kinds {
				list := k.NewList()
				if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
					continue
				}
				for i := range list.Items {
					u := &list.Items[i]
					if objects.ObservedGeneration(u) == u.GetGeneration() {
						continue
					}
					var conds []any
					for _, c := range result(u) {
						c.ObservedGeneration, c.LastTransitionTime = u.GetGeneration(), metav1.Now()
						m, err := runtimeToMap(&c)
						if err != nil {
							continue
						}
						conds = append(conds, m)
					}
					_ = unstructured.SetNestedSlice(u.Object, conds, "status", "conditions")
					_ = unstructured.SetNestedField(u.Object, u.GetGeneration(), "status", "observedGeneration")
					_ = env.Client.Status().Update(ctx, u)
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
}

func TestCreateAppliesAndWaitsForReady(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	playReadiness(t, ns, func(u *unstructured.Unstructured) []metav1.Condition {
		switch u.GetName() {
		case "broken":
			return []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: sourcev1.FetchFailedCondition, Message: "authentication required"}}
		case "retrying":
			return []metav1.Condition{
				{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: "ReferenceNotFound", Message: "reference not found: refs/heads/nope"},
				{Type: meta.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: meta.ProgressingWithRetryReason, Message: "reference not found: refs/heads/nope"},
			}
		}
		return []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason, Message: "stored artifact for revision 'main@sha1:1'"}}
	})

	code, out, errOut := weir(t, "create", "source", "git", "app", "-n", ns, "--url", "https://git.example.com/app", "--branch", "main",
		"--username", "bot", "--password", "s3cret-value", "--timeout", "1m")
	if code != 0 {
		t.Fatalf("code %d, %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"✔ applied Secret/" + ns + "/app", "✔ applied GitRepository/" + ns + "/app",
		"◎ waiting for source-controller to reconcile GitRepository " + ns + "/app",
		"◎ Ready=True Succeeded: stored artifact for revision 'main@sha1:1'", "✔ GitRepository " + ns + "/app is Ready"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, "s3cret-value") {
		t.Errorf("the password was printed:\n%s%s", out, errOut)
	}
	secret := &corev1.Secret{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, secret); err != nil || string(secret.Data["password"]) != "s3cret-value" {
		t.Fatalf("the Secret: %v %v", err, secret.Data)
	}
	repo := &sourcev1.GitRepository{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, repo); err != nil {
		t.Fatal(err)
	}
	if repo.Spec.SecretRef == nil || repo.Spec.SecretRef.Name != "app" || repo.Spec.Reference.Branch != "main" {
		t.Errorf("spec %+v", repo.Spec)
	}
	if mf := repo.GetManagedFields(); len(mf) == 0 || mf[0].Manager != "weir" || mf[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("not applied server-side by weir: %+v", mf)
	}

	// Running it again with another branch updates the object, and waits for the new generation.
	code, out, errOut = weir(t, "create", "source", "git", "app", "-n", ns, "--url", "https://git.example.com/app", "--branch", "release", "--timeout", "1m")
	if code != 0 || !strings.Contains(out, "is Ready") {
		t.Fatalf("update: code %d, %q\n%s", code, errOut, out)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, repo); err != nil || repo.Spec.Reference.Branch != "release" || repo.Generation != 2 {
		t.Errorf("update: %v, generation %d, %+v", err, repo.Generation, repo.Spec.Reference)
	}

	// A source that fails: exit 1 with the reason and message.
	code, out, errOut = weir(t, "create", "source", "git", "broken", "-n", ns, "--url", "https://git.example.com/private", "--timeout", "1m")
	if code != 1 || !strings.Contains(errOut, "GitRepository "+ns+"/broken: FetchFailed: authentication required") ||
		!strings.Contains(out, "✗ GitRepository "+ns+"/broken is not Ready") || !strings.Contains(out, "◎ Ready=False FetchFailed: authentication required") {
		t.Errorf("broken: code %d, stderr %q\n%s", code, errOut, out)
	}

	// A failed attempt the controller retries: reported at once, not after --timeout.
	code, out, errOut = weir(t, "create", "source", "git", "retrying", "-n", ns, "--url", "https://git.example.com/app", "--branch", "nope", "--timeout", "10m")
	if code != 1 || !strings.Contains(errOut, "GitRepository "+ns+"/retrying: ReferenceNotFound: reference not found: refs/heads/nope") ||
		!strings.Contains(out, "✗ GitRepository "+ns+"/retrying is not Ready; source-controller retries it") {
		t.Errorf("retrying: code %d, stderr %q\n%s", code, errOut, out)
	}
}

func TestCreateTimesOutWithoutController(t *testing.T) {
	ns := env.Namespace(t)
	code, out, errOut := weir(t, "create", "kustomization", "apps", "-n", ns, "--source", "app", "--timeout", "2s")
	if code != 1 || !strings.Contains(errOut, "timed out after 2s: kustomize-controller did not reconcile Kustomization "+ns+"/apps; is it running?") {
		t.Errorf("code %d, stderr %q\n%s", code, errOut, out)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "apps"}, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.weir.dev/v1", "kind": "Kustomization"}}); apierrors.IsNotFound(err) {
		t.Errorf("the Kustomization was not applied")
	}
}
