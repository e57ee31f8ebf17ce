package preview_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"weir.dev/pkg/kustomize/build"
)

// TestRemoteBaseRefused: `weir build` and `weir diff` refuse a remote resource unless
// --allow-remote-bases is given, naming the file and the flag, and fetch nothing; with the flag,
// `weir build` builds it.
func TestRemoteBaseRefused(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\n")
	}))
	defer srv.Close()
	dir := appDir(t)
	kustomization := "resources: [settings.yaml, " + srv.URL + "/remote.yaml]\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		t.Fatal(err)
	}
	ns, _ := setup(t)
	want := "kustomization.yaml: resources entry '" + srv.URL + "/remote.yaml' is a remote reference, and remote bases are disabled (enable them with " + build.AllowRemoteBasesFlag + ")"
	for _, command := range []string{"build", "diff"} {
		code, _, errOut := weir(command, "kustomization", "apps", "--path", dir, "-n", ns)
		if code == 0 || code == 1 && command == "diff" || !strings.Contains(errOut, want) {
			t.Errorf("weir %s: code %d, stderr %q; want a failure containing %q", command, code, errOut, want)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("the remote server received %d requests", n)
	}
	code, out, errOut := weir("build", "kustomization", "apps", "--path", dir, "-n", ns, "--allow-remote-bases")
	if code != 0 || !strings.Contains(out, "name: remote") {
		t.Errorf("weir build --allow-remote-bases: code %d, stderr %s, output:\n%s", code, errOut, out)
	}
}
