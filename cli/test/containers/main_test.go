package containers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory" // the registry's storage
	"github.com/go-logr/logr"
	"github.com/sirupsen/logrus"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"weir.dev/cli/internal/cmd"
	"weir.dev/cli/internal/image"
	"weir.dev/cli/internal/local"
	"weir.dev/cli/internal/local/localtest"
	"weir.dev/pkg/testenv"
)

const (
	// namespace is where the test installs Weir: not weir-system, so that everything that
	// names the namespace must follow it.
	namespace = "gitops"
	// version tags the images the test builds.
	version = "v0.0.0-containers"
)

var (
	env *local.Env
	// logs is the directory of the controllers' logs.
	logs string
	// images are the references the install runs, by controller.
	images = map[string]string{}
)

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if _, err := exec.LookPath("podman"); err != nil {
		fmt.Fprintln(os.Stderr, "the container tests need podman and runc: `make test` installs them (Debian: apt-get install podman runc)")
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	out := &testenv.SyncBuffer{} // Up's output, shown when something fails
	dir, err := os.MkdirTemp("", "weir-containers-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	wd, _ := os.Getwd()
	root := local.FindRepoRoot(wd)

	registry := startRegistry()
	defer registry.Close()
	repo := strings.TrimPrefix(registry.URL, "http://") + "/weir"
	start := time.Now()
	set, err := image.Build(ctx, image.Options{
		Root: root, Version: version, Created: time.Unix(0, 0).UTC(),
		Platforms: []image.Platform{{OS: "linux", Arch: runtime.GOARCH}}, Out: out,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the images: %v\n%s", err, out)
		return 1
	}
	pushed, err := image.Push(ctx, set, repo, version, image.Insecure())
	if err != nil {
		fmt.Fprintf(os.Stderr, "pushing the images: %v\n", err)
		return 1
	}
	for _, p := range pushed {
		images[p.Controller] = p.Ref.String()
	}
	defer removeImages()
	fmt.Printf("images built and pushed in %s\n", time.Since(start).Round(time.Millisecond))

	// The manifests a user would pipe into kubectl apply --server-side -f -.
	var manifests, errOut bytes.Buffer
	if code := cmd.Execute([]string{"install", "--export", "--registry", repo, "--version", version, "--namespace", namespace}, &manifests, &errOut); code != 0 {
		fmt.Fprintf(os.Stderr, "weir install --export: %s\n", errOut.String())
		return 1
	}

	start = time.Now()
	logs = filepath.Join(dir, "local")
	env, err = local.Up(ctx, local.Options{
		// Keep: the controllers' logs outlive a failed start, for forbiddenReport.
		Dir: logs, Keep: true, Demo: true, Out: out, RepoRoot: root,
		Containers: &local.Containers{Manifests: manifests.Bytes(), Insecure: true},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "weir local up with containers: %v\n%s%s\n", err, out, forbiddenReport())
		return 1
	}
	fmt.Printf("Weir up in containers in %s\n", time.Since(start).Round(time.Millisecond))
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "weir local output:\n%s", out)
		for _, c := range env.Controllers {
			if b, err := os.ReadFile(c.LogPath); err == nil {
				fmt.Fprintf(os.Stderr, "--- %s log (tail)\n%s\n", c.Name, tail(string(b), 15))
			}
		}
	}
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping:", err)
	}
	return code
}

// startRegistry serves an in-memory OCI registry on 127.0.0.1.
func startRegistry() *httptest.Server {
	logrus.SetOutput(io.Discard)
	cfg := &configuration.Configuration{}
	cfg.Storage = configuration.Storage{"inmemory": configuration.Parameters{}}
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.Secret = "containers-test"
	return httptest.NewServer(handlers.NewApp(context.Background(), cfg))
}

// removeImages removes the test's images from podman's storage.
func removeImages() {
	for _, ref := range images {
		_ = exec.Command("podman", "rmi", "--force", "--ignore", ref).Run()
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// eventually polls check until it returns nil, and fails t after timeout naming what.
var eventually = localtest.Eventually
