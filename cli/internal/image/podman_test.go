package image

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPodmanLoadAndRun loads the archive WriteArchive writes for air-gapped clusters, holding
// linux/amd64 and linux/arm64, into podman, and runs the host's image read-only.
func TestPodmanLoadAndRun(t *testing.T) {
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: `make test` installs Debian's podman and runc (or: apt-get install podman runc)", tool)
		}
	}
	const c = "notification-controller"
	// A tag of this process's own, so that concurrent runs never remove each other's image.
	version := fmt.Sprintf("test-%d", os.Getpid())
	paths, err := WriteArchive(t.TempDir(), twoPlatforms(t), version)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("archive %s: %d bytes", paths[0], info.Size())

	ref := "localhost/" + RefName(c, version)
	t.Cleanup(func() { exec.Command("podman", "rmi", "--force", ref).Run() })
	out := podman(t, "load", "-i", paths[0])
	if !strings.Contains(out, ref) {
		t.Fatalf("podman load says %q, want it to load %s", out, ref)
	}
	got := podman(t, "image", "inspect", "--format", "{{.User}} {{.Os}}/{{.Architecture}} {{index .Labels \"org.opencontainers.image.version\"}}", ref)
	if want := "65532:65532 " + hostPlatform.String() + " " + testVersion; got != want {
		t.Errorf("podman image inspect: %q, want %q", got, want)
	}
	help := podman(t, "run", "--rm", "--runtime", "runc", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=1000:1000",
		"--read-only", "--network", "none", ref, "--help")
	if !strings.Contains(help, "--metrics-addr") {
		t.Errorf("%s --help in the container printed:\n%s", c, help)
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
