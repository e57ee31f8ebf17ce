package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
)

// binaries builds each controller binary once per test process, on first use, and removes
// them when the package's tests end.
var binaries = &binaryCache{built: map[string]string{}}

type binaryCache struct {
	mu    sync.Mutex
	dir   string
	built map[string]string
}

// path returns the built binary of the controller module called name, building it if needed.
func (c *binaryCache) path(tb testing.TB, name string) string {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.built[name]; ok {
		return p
	}
	if c.dir == "" {
		dir, err := os.MkdirTemp("", "weir-e2e-bin-")
		if err != nil {
			tb.Fatal(err)
		}
		c.dir = dir
	}
	out := filepath.Join(c.dir, name)
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = filepath.Join(env.RepoRoot, name)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", name, err, b)
	}
	c.built[name] = out
	return out
}

func (c *binaryCache) setup(*testenv.Environment) (func(), error) {
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.dir != "" {
			_ = os.RemoveAll(c.dir)
		}
	}, nil
}

// controllers are a source-controller and a kustomize-controller process that reconcile only
// the Weir objects labelled with their shard.
type controllers struct {
	shard string
	// storageAddr is source-controller's artifact server, as advertised and as fetched from.
	storageAddr string
	// kustomizeMetrics is kustomize-controller's metrics port on 127.0.0.1.
	kustomizeMetrics int
	// kustomizePID is kustomize-controller's process ID, for /proc.
	kustomizePID int
}

// startControllers starts both controllers for shard and waits until they are ready; they are
// stopped with SIGTERM, and must exit cleanly, when the test ends.
func startControllers(tb testing.TB, shard string, kustomizeArgs ...string) *controllers {
	tb.Helper()
	c := &controllers{shard: shard, storageAddr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(tb))}
	startController(tb, "source-controller", shard,
		"--storage-path="+tb.TempDir(), "--storage-addr="+c.storageAddr, "--storage-adv-addr="+c.storageAddr)
	bin, port := startController(tb, "kustomize-controller", shard, append([]string{"--artifact-host=" + c.storageAddr}, kustomizeArgs...)...)
	c.kustomizeMetrics = port
	c.kustomizePID = childPID(tb, bin)
	return c
}

// startController starts the named controller for shard with args, waits until /readyz
// answers, and returns its binary and metrics port.
func startController(tb testing.TB, name, shard string, args ...string) (string, int) {
	tb.Helper()
	bin := binaries.path(tb, name)
	health, metrics := testenv.FreePort(tb), testenv.FreePort(tb)
	p := testenv.StartProcess(tb, bin, append([]string{
		"--kubeconfig=" + env.KubeconfigPath,
		fmt.Sprintf("--health-addr=127.0.0.1:%d", health),
		fmt.Sprintf("--metrics-addr=127.0.0.1:%d", metrics),
		"--log-encoding=console",
		"--watch-label-selector=" + meta.ShardKeyLabel + "=" + shard,
	}, args...)...)
	// Registered after StartProcess's kill, so it runs first: a graceful stop, then the kill
	// finds nothing left to do.
	tb.Cleanup(func() {
		if err := p.Stop(30 * time.Second); err != nil {
			tb.Errorf("%s did not stop cleanly on SIGTERM: %v; output:\n%s", name, err, p.Output())
		}
		if tb.Failed() {
			tb.Logf("%s output (last %d lines):\n%s", name, logTail, tail(p.Output(), logTail))
		}
	})
	if err := p.WaitHTTP(fmt.Sprintf("http://127.0.0.1:%d/readyz", health), timeout); err != nil {
		tb.Fatal(err)
	}
	return bin, metrics
}

// logTail is how many lines of a controller's output a failed test shows.
const logTail = 60

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// childPID returns the ID of the one child process of the test running bin.
func childPID(tb testing.TB, bin string) int {
	tb.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		tb.Fatal(err)
	}
	var found []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || exe != bin {
			continue
		}
		if procStatus(pid, "PPid") == strconv.Itoa(os.Getpid()) {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("want one child process running %s, found %v", bin, found)
	}
	return found[0]
}

// procStatus returns the value of field in /proc/<pid>/status, or "" when absent.
func procStatus(pid int, field string) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// gitServer serves bare repositories under root over smart HTTP with `git http-backend`,
// behind basic auth with gitUser and gitPassword.
type gitServer struct {
	root string
	url  string
}

func newGitServer(tb testing.TB) *gitServer {
	tb.Helper()
	s := &gitServer{root: tb.TempDir()}
	backend := &cgi.Handler{
		Path: filepath.Join(runGit(tb, "", "--exec-path"), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != gitUser || p != gitPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// gitRepo is a working copy whose commits are pushed to its repository on a gitServer.
type gitRepo struct {
	dir string
	// url is the repository's URL, without credentials.
	url  string
	push string
}

// newRepo creates the repository path.git on s with a first commit of files on main, pushed.
func (s *gitServer) newRepo(tb testing.TB, path string, files map[string]string) *gitRepo {
	tb.Helper()
	bare := filepath.Join(s.root, path+".git")
	runGit(tb, "", "init", "--quiet", "--bare", "--initial-branch=main", bare)
	// git http-backend refuses pushes from a user it does not know; the auth is ours.
	runGit(tb, bare, "config", "http.receivepack", "true")
	r := &gitRepo{
		dir:  tb.TempDir(),
		url:  s.url + "/" + path + ".git",
		push: strings.Replace(s.url, "http://", "http://"+gitUser+":"+gitPassword+"@", 1) + "/" + path + ".git",
	}
	runGit(tb, r.dir, "init", "--quiet", "--initial-branch=main")
	r.commit(tb, "initial commit", files)
	return r
}

// commit writes files (an empty content removes the file), commits everything, pushes to main
// and returns the new revision.
func (r *gitRepo) commit(tb testing.TB, message string, files map[string]string) string {
	tb.Helper()
	for p, content := range files {
		full := filepath.Join(r.dir, filepath.FromSlash(p))
		if content == "" {
			if err := os.Remove(full); err != nil {
				tb.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	runGit(tb, r.dir, "add", "--all")
	runGit(tb, r.dir, "commit", "--quiet", "--message", message)
	runGit(tb, r.dir, "push", "--quiet", r.push, "main")
	return r.revision(tb)
}

// revision is the revision source-controller gives the head of main: main@sha1:<commit>.
func (r *gitRepo) revision(tb testing.TB) string {
	tb.Helper()
	return "main@sha1:" + runGit(tb, r.dir, "rev-parse", "HEAD")
}

// runGit runs git with args in dir and returns its trimmed output.
func runGit(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	out, err := gitCommand(dir, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// gitCommand is git with no user or system configuration and a fixed identity.
func gitCommand(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Weir E2E", "GIT_AUTHOR_EMAIL=e2e@weir.dev",
		"GIT_COMMITTER_NAME=Weir E2E", "GIT_COMMITTER_EMAIL=e2e@weir.dev",
	)
	return cmd
}

func configMap(name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  value: %q\n", name, value)
}

// createGitRepository creates the Secret "git-auth" and the GitRepository "repo" of url, with a
// 1m interval, in shard.
func createGitRepository(tb testing.TB, ns, shard, url string) *sourcev1.GitRepository {
	tb.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "git-auth"},
		StringData: map[string]string{"username": gitUser, "password": gitPassword},
	}
	if err := env.Client.Create(ctx, secret); err != nil && !apierrors.IsAlreadyExists(err) {
		tb.Fatal(err)
	}
	src := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "repo", Labels: map[string]string{meta.ShardKeyLabel: shard}},
		Spec: sourcev1.GitRepositorySpec{
			URL:       url,
			SecretRef: &meta.LocalObjectReference{Name: secret.Name},
			Interval:  metav1.Duration{Duration: time.Minute},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
		},
	}
	if err := env.Client.Create(ctx, src); err != nil {
		tb.Fatal(err)
	}
	return src
}

// createKustomization creates a pruning Kustomization of GitRepository "repo" at path, applying
// into its own namespace, with a 10m interval, in shard.
func createKustomization(tb testing.TB, ns, shard, name, path string) *kustomizev1.Kustomization {
	tb.Helper()
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{meta.ShardKeyLabel: shard}},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef:       kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"},
			Path:            path,
			Interval:        metav1.Duration{Duration: 10 * time.Minute},
			Timeout:         &metav1.Duration{Duration: time.Minute},
			Prune:           true,
			TargetNamespace: ns,
		},
	}
	if err := env.Client.Create(context.Background(), ks); err != nil {
		tb.Fatal(err)
	}
	return ks
}

// waitArtifact waits until src is Ready with an artifact of revision.
func waitArtifact(tb testing.TB, src *sourcev1.GitRepository, revision string) {
	tb.Helper()
	testenv.Eventually(tb, timeout, func() error {
		if err := env.ObjectIn(src, meta.ReadyCondition, metav1.ConditionTrue, "", "")(); err != nil {
			return err
		}
		if a := src.Status.Artifact; a == nil || a.Revision != revision {
			return fmt.Errorf("artifact %+v, want revision %s", a, revision)
		}
		return nil
	})
}

// waitApplied waits until ks is Ready having applied revision.
func waitApplied(tb testing.TB, ks *kustomizev1.Kustomization, revision string, within time.Duration) {
	tb.Helper()
	testenv.Eventually(tb, within, func() error {
		if err := env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionTrue, "", "")(); err != nil {
			return err
		}
		if ks.Status.LastAppliedRevision != revision {
			return fmt.Errorf("lastAppliedRevision %q, want %q", ks.Status.LastAppliedRevision, revision)
		}
		return nil
	})
}

// requestReconcile sets a new reconcile request on obj and returns its value.
func requestReconcile(tb testing.TB, obj client.Object) string {
	tb.Helper()
	token := time.Now().Format(time.RFC3339Nano)
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[meta.ReconcileRequestAnnotation] = token
	obj.SetAnnotations(annotations)
	if err := env.Client.Patch(context.Background(), obj, patch); err != nil {
		tb.Fatal(err)
	}
	return token
}

// configMapValue returns data.value of ConfigMap ns/name, or "<absent>".
func configMapValue(tb testing.TB, ns, name string) string {
	tb.Helper()
	var cm corev1.ConfigMap
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &cm)
	if apierrors.IsNotFound(err) {
		return "<absent>"
	}
	if err != nil {
		tb.Fatal(err)
	}
	return cm.Data["value"]
}
