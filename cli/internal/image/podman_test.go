package image

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPodmanLoadAndRun loads the archives WriteArchive writes for air-gapped clusters into
// podman, a real controller's (the host's platform) and the stand-in's (linux/amd64 and
// linux/arm64), and runs each read-only: it must run as 65532.
func TestPodmanLoadAndRun(t *testing.T) {
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: `make test` installs Debian's podman and runc (or: apt-get install podman runc)", tool)
		}
	}
	set := Set{"notification-controller": builtAll(t)["notification-controller"], tiny: twoPlatforms(t)[tiny]}
	// A tag of this process's own, so that concurrent runs never remove each other's images.
	version := fmt.Sprintf("test-%d", os.Getpid())
	paths, err := WriteArchive(t.TempDir(), set, version)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range set.Names() {
		info, err := os.Stat(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("archive %s: %d bytes", paths[i], info.Size())

		ref := "localhost/" + RefName(c, version)
		t.Cleanup(func() { exec.Command("podman", "rmi", "--force", ref).Run() })
		if out := podman(t, "load", "-i", paths[i]); !strings.Contains(out, ref) {
			t.Fatalf("podman load says %q, want it to load %s", out, ref)
		}
		format := `{{.User}} {{.Os}}/{{.Architecture}} {{index .Labels "org.opencontainers.image.version"}}`
		if got, want := podman(t, "image", "inspect", "--format", format, ref), "65532:65532 "+hostPlatform.String()+" "+testVersion; got != want {
			t.Errorf("podman image inspect %s: %q, want %q", ref, got, want)
		}
		want := map[string]string{"notification-controller": "--metrics-addr", tiny: "uid=65532 gid=65532"}[c]
		out := podman(t, "run", "--rm", "--runtime", "runc", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=1000:1000",
			"--read-only", "--network", "none", ref, "--help")
		if !strings.Contains(out, want) {
			t.Errorf("%s --help in a container: want %q in\n%s", c, want, out)
		}
	}
}

// podman runs podman with args and returns its trimmed output; it fails the test on error.
func podman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("podman", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
