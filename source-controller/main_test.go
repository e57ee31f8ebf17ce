package main

import (
	"strings"
	"testing"
	"time"

	"weir.dev/pkg/testenv"
)

var env *testenv.Environment

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func TestBinary(t *testing.T) {
	testenv.CheckControllerBinary(t, env, ".", []string{"gitrepository", "ocirepository", "helmrepository", "helmchart"}, "--storage-path="+t.TempDir(), "--storage-addr=127.0.0.1:0")
}

// TestStorageFlags: source-controller's own flags are checked before it starts.
func TestStorageFlags(t *testing.T) {
	bin := testenv.BuildBinary(t, ".")
	for _, tc := range []struct{ flag, want string }{
		{"--storage-path=", "--storage-path"},
		{"--storage-adv-addr=http://x/y", "--storage-adv-addr"},
		{"--artifact-retention-records=0", "--artifact-retention-records"},
		{"--helm-chart-max-size=0", "--helm-chart-max-size"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			p := testenv.StartProcess(t, bin, "--kubeconfig="+env.KubeconfigPath, tc.flag)
			_ = p.Wait(30 * time.Second)
			if code := p.ExitCode(); code != 2 || !strings.Contains(p.Output(), tc.want) {
				t.Fatalf("exit %d, want 2 naming %s; output:\n%s", code, tc.want, p.Output())
			}
		})
	}
}
