package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/cmd"
	"weir.dev/cli/internal/local"
)

// weir runs the weir CLI against the environment and returns its exit code and outputs.
func weir(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cmd.Execute(append([]string{"--kubeconfig", env.KubeconfigPath}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCLIGetListsTheDemoReady runs `weir get all -A`: every demo object, Ready.
func TestCLIGetListsTheDemoReady(t *testing.T) {
	code, out, errOut := weir(t, "get", "all", "-A")
	if code != 0 {
		t.Fatalf("weir get all -A: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("weir get all -A:\n%s", out)
	for _, want := range []string{"gitrepository/demo", "kustomization/app", "helmrepository/demo", "helmrelease/" + env.Demo.HelmRelease} {
		if !strings.Contains(out, want) {
			t.Errorf("weir get all -A lacks %s", want)
		}
	}
	for _, name := range append([]string{"demo", env.Demo.HelmRelease}, env.Demo.Kustomizations...) {
		if !rowReady(out, name) {
			t.Errorf("weir get all -A: no Ready row for %s", name)
		}
	}
}

// rowReady reports whether a line of a weir get table names name and says True.
func rowReady(table, name string) bool {
	for _, line := range strings.Split(table, "\n") {
		fields := strings.Fields(line)
		if len(fields) > 2 && strings.Contains(line, local.DemoNamespace) && hasField(fields, name) && hasField(fields, "True") {
			return true
		}
	}
	return false
}

func hasField(fields []string, s string) bool {
	for _, f := range fields {
		if f == s || strings.HasSuffix(f, "/"+s) {
			return true
		}
	}
	return false
}

// TestCLITreeShowsTheInventory runs `weir tree kustomization app`: the objects it applied.
func TestCLITreeShowsTheInventory(t *testing.T) {
	code, out, errOut := weir(t, "tree", "kustomization", "app", "-n", local.DemoNamespace)
	if code != 0 {
		t.Fatalf("weir tree: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("weir tree kustomization app:\n%s", out)
	for _, want := range []string{"Kustomization/" + local.DemoNamespace + "/app", "ConfigMap/" + local.DemoNamespace + "/podinfo-config", "Deployment/" + local.DemoNamespace + "/podinfo"} {
		if !strings.Contains(out, want) {
			t.Errorf("weir tree lacks %s", want)
		}
	}
}

// TestCLIDiffPreviewsAChange runs `weir diff kustomization app` on a clone of the demo
// repository: exit 0 as pushed, exit 1 with the change after editing a file.
func TestCLIDiffPreviewsAChange(t *testing.T) {
	clone := filepath.Join(t.TempDir(), "demo")
	if out, err := exec.Command("git", "clone", "--quiet", env.Demo.GitURL, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	appliedRevision(t, "app", "main@sha1:"+strings.TrimSpace(gitOutput(t, clone, "rev-parse", "HEAD")), 30*time.Second)
	path := filepath.Join(clone, "app")
	code, out, errOut := weir(t, "diff", "kustomization", "app", "-n", local.DemoNamespace, "--path", path)
	if code != 0 {
		t.Fatalf("weir diff of the applied revision: exit %d, want 0\n%s%s", code, out, errOut)
	}

	if err := os.WriteFile(filepath.Join(path, "configmap.yaml"), []byte(configMap("podinfo-config", "Hello from a pull request")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = weir(t, "diff", "kustomization", "app", "-n", local.DemoNamespace, "--path", path)
	if code != 1 {
		t.Fatalf("weir diff of a change: exit %d, want 1\n%s%s", code, out, errOut)
	}
	t.Logf("weir diff:\n%s", out)
	if !strings.Contains(out, "Hello from a pull request") || !strings.Contains(out, "podinfo-config") {
		t.Errorf("the diff does not show the changed ConfigMap:\n%s", out)
	}
	if strings.Contains(out, "live/Deployment") {
		t.Errorf("the diff shows a change to the unchanged Deployment:\n%s", out)
	}
	if got, _ := configMapMessage("podinfo-config"); got == "Hello from a pull request" {
		t.Errorf("weir diff changed the cluster")
	}
}

// TestCLIMigrateOutputApplies migrates a Flux manifest set and applies the result in a
// server-side dry run: the API server accepts every object as a Weir object.
func TestCLIMigrateOutputApplies(t *testing.T) {
	code, out, errOut := weir(t, "migrate", "-f", filepath.Join("testdata", "flux"))
	if code != 0 || errOut != "" {
		t.Fatalf("weir migrate: exit %d\n%s", code, errOut)
	}
	if strings.Contains(out, "fluxcd.io") {
		t.Errorf("Flux names left after migrate:\n%s", out)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(out), 4096)
	kinds := map[string]bool{}
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding the migrated output: %v\n%s", err, out)
		}
		if len(u.Object) == 0 {
			continue
		}
		if !strings.HasSuffix(u.GroupVersionKind().Group, ".weir.dev") {
			t.Errorf("%s %s: apiVersion %s is not Weir's", u.GetKind(), u.GetName(), u.GetAPIVersion())
		}
		if err := env.Client.Create(context.Background(), u, client.DryRunAll); err != nil {
			t.Errorf("server-side dry run of the migrated %s %s: %v", u.GetKind(), u.GetName(), err)
		}
		kinds[u.GetKind()] = true
	}
	if len(kinds) != 4 {
		t.Errorf("migrated kinds %v, want GitRepository, Kustomization, HelmRepository and HelmRelease", kinds)
	}
	if !strings.Contains(out, "reconcile.weir.dev/requestedAt") {
		t.Errorf("the reconcile annotation was not migrated:\n%s", out)
	}
}

// gitOutput runs git in dir and returns its output.
func gitOutput(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
