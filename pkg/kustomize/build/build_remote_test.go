package build

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kustomizev1 "weir.dev/api/kustomize/v1"
)

// uploadPackProgram writes a program that creates a marker file when run, and returns the
// program and the marker.
func uploadPackProgram(t *testing.T) (prog, marker string) {
	t.Helper()
	dir := t.TempDir()
	marker = filepath.Join(dir, "ran")
	prog = filepath.Join(dir, "pwn.sh")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\ntouch "+marker+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return prog, marker
}

// bareRepo makes a bare Git repository under dir/name.git holding files on main.
func bareRepo(t *testing.T, dir, name string, files map[string]string) string {
	t.Helper()
	work := tree(t, files)
	git := func(d string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = d
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git(work, "init", "--quiet")
	git(work, "add", ".")
	git(work, "commit", "--quiet", "-m", "init")
	git(work, "tag", "v1")
	bare := filepath.Join(dir, name+".git")
	git(dir, "clone", "--quiet", "--bare", work, bare)
	return bare
}

func buildApp(t *testing.T, kustomization string, allow bool) error {
	t.Helper()
	root := tree(t, map[string]string{"apps/kustomization.yaml": kustomization, "apps/cm.yaml": configMapNamed("local")})
	_, err := Build(context.Background(), root, &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Path: "./apps"}}, Options{AllowRemoteBases: allow})
	return err
}

func configMapNamed(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  a: b\n"
}

// TestRemoteUploadPackNeverRuns: a ref that git would read as --upload-pack=<program> runs
// nothing, whether remote bases are allowed or not.
func TestRemoteUploadPackNeverRuns(t *testing.T) {
	prog, marker := uploadPackProgram(t)
	repo := bareRepo(t, t.TempDir(), "repo", map[string]string{"base/kustomization.yaml": "resources: [cm.yaml]\n", "base/cm.yaml": configMapNamed("remote")})
	for i, entry := range []string{
		"resources:\n- 'file://" + repo + "//base?ref=--upload-pack=" + prog + "'",
		"components:\n- 'file://" + repo + "//base?version=--upload-pack=" + prog + "'",
		"resources:\n- cm.yaml\n- 'git::file://" + repo + "?ref=--upload-pack=" + prog + "'",
		"resources:\n- 'http://127.0.0.1:1/repo.git//base?ref=--upload-pack=" + prog + "'",
	} {
		for _, allow := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d allow %v", i, allow), func(t *testing.T) {
				err := buildApp(t, entry+"\n", allow)
				if _, statErr := os.Stat(marker); statErr == nil {
					t.Fatal("the upload-pack program ran")
				}
				if err == nil {
					t.Fatal("no error")
				}
				if !allow && !strings.Contains(err.Error(), AllowRemoteBasesFlag) {
					t.Errorf("error %q does not name %s", err, AllowRemoteBasesFlag)
				}
			})
		}
	}
}

// TestRemoteRefusedByDefault: with remote bases off, no remote reference anywhere kustomize
// would follow one reaches the server, and the error names the file, the entry and the flag.
func TestRemoteRefusedByDefault(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, configMapNamed("remote"))
	}))
	defer srv.Close()
	u := srv.URL
	inline := "|\n  apiVersion: builtin\n  kind: PatchTransformer\n  metadata: {name: p}\n  path: " + u + "/patch.yaml\n"
	cases := []struct{ name, files, file, want string }{
		{"resource file", "resources: [cm.yaml, " + u + "/cm.yaml]", "apps/kustomization.yaml", "resources entry '" + u + "/cm.yaml'"},
		{"git base", "resources:\n- '" + u + "/org/repo//base?ref=main'", "apps/kustomization.yaml", "resources entry"},
		{"component", "components: [" + u + "/org/repo//c]", "apps/kustomization.yaml", "components entry"},
		{"github shorthand", "resources: [github.com/org/repo/base]", "apps/kustomization.yaml", "'github.com/org/repo/base'"},
		{"scp-like", "resources: ['git@example.com:org/repo.git']", "apps/kustomization.yaml", "resources entry"},
		{"ssh", "resources: ['ssh://git@example.com/org/repo']", "apps/kustomization.yaml", "resources entry"},
		{"patch path", "resources: [cm.yaml]\npatches:\n- path: " + u + "/patch.yaml", "apps/kustomization.yaml", "path entry '" + u},
		{"generator file", "configMapGenerator:\n- name: g\n  files: [k=" + u + "/f]", "apps/kustomization.yaml", "files entry 'k=" + u},
		{"inline transformer", "resources: [cm.yaml]\ntransformers:\n- " + inline, "apps/kustomization.yaml", u + "/patch.yaml"},
		{"alias into resources", "commonAnnotations: {a: &r " + u + "/cm.yaml}\nresources: [*r]", "apps/kustomization.yaml", "resources entry"},
		{"credentials redacted", "resources: ['https://user:hunter2@example.com/cm.yaml']", "apps/kustomization.yaml", "'https://example.com/cm.yaml'"},
		{"in a local base", "resources: [base]", "apps/base/kustomization.yaml", "resources entry"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := tree(t, map[string]string{
				"apps/kustomization.yaml":      tc.files + "\n",
				"apps/cm.yaml":                 configMapNamed("local"),
				"apps/base/kustomization.yaml": "resources: [" + u + "/base.yaml]\n",
			})
			_, err := Build(context.Background(), root, &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Path: "./apps"}}, Options{})
			if n := requests.Load(); n != 0 {
				t.Fatalf("the server received %d requests", n)
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range []string{tc.file + ": ", tc.want, "remote bases are disabled", AllowRemoteBasesFlag} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows a password", err)
			}
		})
	}
}

// TestRemoteLookalikesBuild: URLs that kustomize only copies into objects (annotations,
// literals, inline patches) are not remote references: the build succeeds with remote bases off.
func TestRemoteLookalikesBuild(t *testing.T) {
	err := buildApp(t, `resources: [cm.yaml]
commonAnnotations: {docs: "https://example.com/docs"}
generatorOptions: {annotations: {source: "https://example.com/src"}}
configMapGenerator:
- name: urls
  literals: ["HOME=https://example.com/"]
patches:
- patch: |
    [{"op": "add", "path": "/metadata/annotations/link", "value": "https://example.com/x"}]
  target: {kind: ConfigMap, name: local}
`, false)
	if err != nil {
		t.Fatal(err)
	}
}

// TestRemoteSlowCutOff: with remote bases on, a server that never answers is cut off by the
// time bound, and while the fetch hangs another build in the process completes.
func TestRemoteSlowCutOff(t *testing.T) {
	remoteTimeout = 2 * time.Second
	t.Cleanup(func() { remoteTimeout = 60 * time.Second })
	hanging := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow.yaml":
			hanging <- struct{}{}
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	defer srv.Close()
	defer close(release)

	slow := make(chan error, 1)
	start := time.Now()
	go func() { slow <- buildApp(t, "resources: ["+srv.URL+"/slow.yaml]\n", true) }()
	select {
	case <-hanging:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow resource was never requested")
	}
	other := make(chan error, 1)
	go func() { other <- buildApp(t, "resources: [cm.yaml]\n", true) }()
	select {
	case err := <-other:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Error("a local build waited for the slow remote fetch")
	}
	select {
	case err := <-slow:
		if err == nil || !strings.Contains(err.Error(), "longer than the limit") {
			t.Errorf("slow fetch: %v, want the time limit", err)
		}
		if d := time.Since(start); d > 8*time.Second {
			t.Errorf("the slow fetch took %s", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the slow fetch was not cut off")
	}
}

// TestRemoteLargeCutOff: with remote bases on, a file over the size bound fails the build.
func TestRemoteLargeCutOff(t *testing.T) {
	remoteMaxBytes = 1 << 20
	t.Cleanup(func() { remoteMaxBytes = 64 << 20 })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: large\ndata:\n  a: ")
		fmt.Fprint(w, strings.Repeat("x", 2<<20)+"\n")
	}))
	defer srv.Close()
	err := buildApp(t, "resources: ["+srv.URL+"/large.yaml]\n", true)
	if err == nil || !strings.Contains(err.Error(), "exceed the limit") {
		t.Errorf("large file: %v, want the size limit", err)
	}
}

// gitHTTPServer serves the bare repositories under root with git http-backend.
func gitHTTPServer(t *testing.T, root string) *httptest.Server {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1"},
	}
	srv := httptest.NewServer(backend)
	t.Cleanup(srv.Close)
	return srv
}

// TestRemoteGitBase: with remote bases on, a Git base over HTTP builds, at a branch, a tag, and
// the default branch and a commit, including a remote file its kustomization names, without any
// git program.
func TestRemoteGitBase(t *testing.T) {
	repos := t.TempDir()
	srv := gitHTTPServer(t, repos)
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, configMapNamed("nested"))
	}))
	defer files.Close()
	bare := bareRepo(t, repos, "repo", map[string]string{
		"base/kustomization.yaml":   "resources: [cm.yaml, ../shared, " + files.URL + "/nested.yaml]\n",
		"base/cm.yaml":              configMapNamed("remote"),
		"shared/kustomization.yaml": "resources: [cm.yaml]\n",
		"shared/cm.yaml":            configMapNamed("shared"),
	})
	sha, err := exec.Command("git", "-C", bare, "rev-parse", "main").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()) // no git program: the clone must be in-process
	for i, q := range []string{"?ref=main", "?version=v1", "", "?ref=" + strings.TrimSpace(string(sha))} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			root := tree(t, map[string]string{"apps/kustomization.yaml": "resources:\n- cm.yaml\n- '" + srv.URL + "/repo.git//base" + q + "'\n", "apps/cm.yaml": configMapNamed("local")})
			objs, err := Build(context.Background(), root, &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{Path: "./apps"}}, Options{AllowRemoteBases: true})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, o := range objs {
				names = append(names, o.GetName())
			}
			if got := strings.Join(names, ","); got != "local,remote,shared,nested" {
				t.Errorf("objects %s, want local,remote,shared,nested", got)
			}
		})
	}
	err = buildApp(t, "resources:\n- '"+srv.URL+"/repo.git//base?ref=nope'\n", true)
	if err == nil || !strings.Contains(err.Error(), `no branch or tag "nope"`) {
		t.Errorf("unknown ref: %v", err)
	}
}

// TestRemoteGitBaseTooLarge: a Git base over the size bound fails the build.
func TestRemoteGitBaseTooLarge(t *testing.T) {
	remoteMaxBytes = 64 << 10
	t.Cleanup(func() { remoteMaxBytes = 64 << 20 })
	repos := t.TempDir()
	srv := gitHTTPServer(t, repos)
	noise := make([]byte, 256<<10)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	bareRepo(t, repos, "big", map[string]string{"base/kustomization.yaml": "resources: []\n", "base/noise.bin": hex.EncodeToString(noise)})
	err := buildApp(t, "resources:\n- '"+srv.URL+"/big.git//base?ref=main'\n", true)
	if err == nil || !strings.Contains(err.Error(), "exceed the limit") {
		t.Errorf("large Git base: %v, want the size limit", err)
	}
}

func TestIsRemote(t *testing.T) {
	for s, want := range map[string]bool{
		"https://example.com/x.yaml": true, "HTTP://example.com/x": true, "http:example.com/x": true,
		"file:///tmp/repo": true, "ssh://git@host/repo": true, "git::https://host/org/repo": true,
		"github.com/org/repo": true, "GitHub.com:org/repo": true, "git@host:org/repo": true,
		"k=https://example.com/f": true,
		"deploy.yaml":             false, "../base": false, "a@b.yaml": false, "key=value.txt": false,
		"team@v2": false,
	} {
		if got := isRemote(s); got != want {
			t.Errorf("isRemote(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestParseGit(t *testing.T) {
	for raw, want := range map[string]gitSpec{
		"https://host/org/repo//base?ref=v1.2":   {url: "https://host/org/repo", host: "host", ref: "v1.2", dir: "base", marked: true},
		"github.com/org/repo/apps/web?version=x": {url: "https://github.com/org/repo", host: "github.com", ref: "x", dir: "apps/web", marked: true},
		"http://h:8080/r.git/base":               {url: "http://h:8080/r.git", host: "h:8080", dir: "base", marked: true},
		"https://dev.azure.com/o/p/_git/r/d":     {url: "https://dev.azure.com/o/p/_git/r", host: "dev.azure.com", dir: "d", marked: true},
		"https://host/org/repo":                  {url: "https://host/org/repo", host: "host", dir: "."},
	} {
		got, err := parseGit(raw)
		if err != nil || got != want {
			t.Errorf("parseGit(%q) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
	for _, raw := range []string{
		"https://host/org/repo?ref=--upload-pack=x", "https://host/org/repo?ref=-x", "https://host/org/repo?version=a..b",
		"https://host/org/repo?ref=a%20b", "https://host/org/repo?ref=main&ref=--x",
	} {
		if _, err := parseGit(raw); !errors.Is(err, errBadRef) {
			t.Errorf("parseGit(%q): %v, want errBadRef", raw, err)
		}
	}
	for _, raw := range []string{"file:///tmp/repo", "ssh://git@host/org/repo", "git@github.com:org/repo", "https://u:p@host/org/repo"} {
		if _, err := parseGit(raw); err == nil {
			t.Errorf("parseGit(%q) accepted", raw)
		}
	}
}
