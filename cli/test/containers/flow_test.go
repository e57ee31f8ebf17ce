package containers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/cli/internal/cmd"
	"weir.dev/cli/internal/local"
	"weir.dev/pkg/testenv"
)

// TestControllersRunAsTheirDeployments checks each controller runs from the pushed image as
// its Deployment says (uid 65532, read-only root) and acts as its own ServiceAccount: its
// leader-election Lease in the install's namespace is held.
func TestControllersRunAsTheirDeployments(t *testing.T) {
	out, err := exec.Command("podman", "ps", "--format", "{{.Names}} {{.Image}}").CombinedOutput()
	if err != nil {
		t.Fatalf("podman ps: %v: %s", err, out)
	}
	for name, image := range images {
		var container string
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[0], "weir-"+name+"-") && f[1] == image {
				container = f[0]
			}
		}
		if container == "" {
			t.Errorf("no running container of %s (%s):\n%s", name, image, out)
			continue
		}
		inspect, err := exec.Command("podman", "inspect", "--format", "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}", container).CombinedOutput()
		if err != nil {
			t.Fatalf("podman inspect: %v: %s", err, inspect)
		}
		if got := strings.TrimSpace(string(inspect)); got != "65532:65532 true" {
			t.Errorf("%s runs with user and read-only root %q", name, got)
		}
	}
	for name := range images {
		lease := &coordinationv1.Lease{}
		key := client.ObjectKey{Namespace: namespace, Name: name + "-leader-election"}
		eventually(t, 30*time.Second, "the Lease of "+name, func() error {
			if err := env.Client.Get(context.Background(), key, lease); err != nil {
				return err
			}
			if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
				return fmt.Errorf("no holder")
			}
			return nil
		})
	}
}

// TestDemoThroughContainers follows the demo through the containers: the sample repository
// applied, the HelmRelease installed and their notifications delivered; then a push, posted to
// the Receiver, applied and notified.
func TestDemoThroughContainers(t *testing.T) {
	ctx := context.Background()
	d := env.Demo
	for _, name := range d.Kustomizations {
		ks := &kustomizev1.Kustomization{}
		if err := env.Client.Get(ctx, demoKey(name), ks); err != nil {
			t.Fatal(err)
		}
		if ks.Status.LastAppliedRevision != d.Revision {
			t.Errorf("Kustomization %s applied %q, want %q", name, ks.Status.LastAppliedRevision, d.Revision)
		}
	}
	hr := &helmv1.HelmRelease{}
	eventually(t, time.Minute, "HelmRelease "+d.HelmRelease+" installed", func() error {
		if err := env.Client.Get(ctx, demoKey(d.HelmRelease), hr); err != nil {
			return err
		}
		if err := testenv.CheckCondition(hr, meta.ReadyCondition, metav1.ConditionTrue, "", ""); err != nil {
			return err
		}
		if len(hr.Status.History) == 0 || hr.Status.History[0].Status != "deployed" {
			return fmt.Errorf("history %+v", hr.Status.History)
		}
		return nil
	})
	notification(t, 0, kustomizev1.KustomizationKind, d.Kustomizations[0], d.Revision)
	notification(t, 0, helmv1.HelmReleaseKind, d.HelmRelease, "")

	// A push, announced to the Receiver as a CI job would, reaches the cluster and Slack's stand-in.
	before := len(d.Notifications())
	writeFile(t, "app/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo-config\ndata:\n  message: \"Hello from a container\"\n")
	git(t, "add", "--all")
	git(t, "commit", "--quiet", "--message", "Greet from a container")
	git(t, "push", "--quiet", "origin", "main")
	revision := "main@sha1:" + git(t, "rev-parse", "HEAD")
	resp, err := http.Post(d.ReceiverURL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the Receiver answered HTTP %d", resp.StatusCode)
	}
	eventually(t, 45*time.Second, "the pushed ConfigMap applied", func() error {
		cm := &corev1.ConfigMap{}
		if err := env.Client.Get(ctx, demoKey("podinfo-config"), cm); err != nil {
			return err
		}
		if cm.Data["message"] != "Hello from a container" {
			return fmt.Errorf("message %q", cm.Data["message"])
		}
		return nil
	})
	notification(t, before, kustomizev1.KustomizationKind, d.Kustomizations[0], revision)
}

// TestNoRequestForbidden fails, naming each refusal, when a controller was refused anything
// by the RBAC of deploy/ during the tests above.
func TestNoRequestForbidden(t *testing.T) {
	if r := forbiddenReport(); r != "" {
		t.Error(r)
	}
}

// TestUninstallKeepsTheDemo stops the controllers, as a cluster does once their Deployments
// are gone, then runs weir uninstall: Weir's CRDs and namespace go, and everything the demo's
// Kustomizations and HelmRelease applied stays. It runs last: Weir is gone after it.
func TestUninstallKeepsTheDemo(t *testing.T) {
	ctx := context.Background()
	if err := env.StopControllers(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := cmd.Execute([]string{"--kubeconfig", env.KubeconfigPath, "uninstall", "--namespace", namespace}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "what it applied is still there") {
		t.Fatalf("weir uninstall: code %d, %s\n%s", code, errOut.String(), out.String())
	}
	for _, o := range []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "podinfo-config"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "podinfo"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: env.Demo.HelmRelease + "-config"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1." + env.Demo.HelmRelease + ".v1"}},
	} {
		if err := env.Client.Get(ctx, demoKey(o.GetName()), o); err != nil {
			t.Errorf("after uninstall, %T %s: %v", o, o.GetName(), err)
		} else if o.GetDeletionTimestamp() != nil {
			t.Errorf("after uninstall, %T %s is being deleted", o, o.GetName())
		}
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	eventually(t, 30*time.Second, "the Kustomization CRD removed", func() error {
		err := env.Client.Get(ctx, client.ObjectKey{Name: "kustomizations.kustomize.weir.dev"}, crd)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
	ns := &corev1.Namespace{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: namespace}, ns); err == nil && ns.DeletionTimestamp == nil {
		t.Errorf("namespace %s is not being deleted", namespace)
	}
}

// forbiddenReport returns the lines of the controllers' logs in which the API server refused
// a request (they name the ServiceAccount, verb and resource), or "".
func forbiddenReport() string {
	var lines []string
	for name := range images {
		b, err := os.ReadFile(filepath.Join(logs, name+".log"))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "forbidden") {
				lines = append(lines, name+": "+l)
			}
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "\nthe API server refused these controllers' requests: deploy/'s RBAC is short:\n" + strings.Join(lines, "\n")
}

// notification waits until the demo's webhook received, after the first skip, an event about
// kind/name, with revision when it is set.
func notification(t *testing.T, skip int, kind, name, revision string) {
	t.Helper()
	eventually(t, 30*time.Second, "a notification about "+kind+"/"+name, func() error {
		all := env.Demo.Notifications()
		for _, n := range all[min(skip, len(all)):] {
			if n.Kind == kind && n.Name == name && (revision == "" || strings.Contains(n.Revision, revision)) {
				return nil
			}
		}
		return fmt.Errorf("%d notifications, none about it", len(all))
	})
}

func demoKey(name string) client.ObjectKey {
	return client.ObjectKey{Namespace: local.DemoNamespace, Name: name}
}

// git runs git in the demo's working copy and returns its output.
func git(t *testing.T, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = env.Demo.WorkDir
	c.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Weir test", "GIT_AUTHOR_EMAIL=test@weir.dev", "GIT_COMMITTER_NAME=Weir test", "GIT_COMMITTER_EMAIL=test@weir.dev")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	full := filepath.Join(env.Demo.WorkDir, filepath.FromSlash(path))
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
