package image

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"
)

// testVersion and testCreated label every image the tests build.
const testVersion = "v0.0.0-test"

var testCreated = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// tiny is the stand-in controller of testdata/root, which the tests build for two platforms.
const tiny = "tiny-controller"

// testOptions builds controllers for platforms from root: this repository ("../../..") or
// testdata/root.
func testOptions(t *testing.T, root string, platforms []Platform, controllers ...string) Options {
	t.Helper()
	return Options{
		Root: root, Version: testVersion, Revision: "0123456789abcdef0123456789abcdef01234567",
		Source: "https://example.invalid/weir", Created: testCreated,
		Platforms: platforms, Controllers: controllers, Out: testWriter{t},
	}
}

const repoRoot, tinyRoot = "../../..", "testdata/root"

var hostPlatform = Platform{OS: "linux", Arch: runtime.GOARCH}

// Builds are shared by the tests of this package: compiling and compressing is what costs.
var (
	allOnce, twoOnce sync.Once
	allSet, twoSet   Set
	allErr, twoErr   error
)

// builtAll is every controller for the host's platform. Their packages are in the build cache
// once the controllers' own tests ran, so this costs four links.
func builtAll(t *testing.T) Set {
	t.Helper()
	allOnce.Do(func() {
		allSet, allErr = timedBuild(t, testOptions(t, repoRoot, []Platform{hostPlatform}))
	})
	if allErr != nil {
		t.Fatal(allErr)
	}
	return allSet
}

// twoPlatforms is tiny-controller for linux/amd64 and linux/arm64. A real controller for a
// second architecture took 393 s of CPU (29 min wall on this shared machine) on a cold cache.
func twoPlatforms(t *testing.T) Set {
	t.Helper()
	twoOnce.Do(func() {
		twoSet, twoErr = timedBuild(t, testOptions(t, tinyRoot, DefaultPlatforms, tiny))
	})
	if twoErr != nil {
		t.Fatal(twoErr)
	}
	return twoSet
}

func timedBuild(t *testing.T, o Options) (Set, error) {
	start := time.Now()
	set, err := Build(context.Background(), o)
	t.Logf("Build: %s", time.Since(start).Round(time.Millisecond))
	return set, err
}

// testWriter sends Build's progress to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// startRegistry serves an in-memory registry on 127.0.0.1 and returns its host:port. With a
// user, it asks for that user's password (htpasswd, basic auth).
func startRegistry(t *testing.T, user, password string) string {
	t.Helper()
	logrus.SetOutput(io.Discard)
	cfg := &configuration.Configuration{}
	cfg.Storage = configuration.Storage{"inmemory": configuration.Parameters{}}
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.Secret = "test"
	if user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "htpasswd")
		if err := os.WriteFile(path, []byte(fmt.Sprintf("%s:%s\n", user, hash)), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": "test", "path": path}}
	}
	srv := httptest.NewServer(handlers.NewApp(context.Background(), cfg))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// dockerConfig points DOCKER_CONFIG at a config.json holding user:password for host.
func dockerConfig(t *testing.T, host, user, password string) {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}
