package bootstrap

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/gittestserver"
	"github.com/go-logr/logr"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"weir.dev/cli/internal/cmd"
	"weir.dev/cli/internal/local"
	"weir.dev/cli/internal/local/localtest"
)

// The package's shared parts: one local Weir and one Git server (HTTP with basic auth, and
// SSH accepting any client key). The tests change the same cluster, so they run in order.
var (
	env *local.Env
	git *gittestserver.GitServer
	// dir holds the credential files the commands read.
	dir string
)

const (
	gitUser     = "fleet-bot"
	gitPassword = "hunter2-not-in-git"
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	var err error
	dir, err = os.MkdirTemp("", "weir-bootstrap-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := startGit(); err != nil {
		fmt.Fprintln(os.Stderr, "git server:", err)
		return 1
	}
	defer func() { git.StopHTTP(); _ = git.StopSSH() }()
	return localtest.Run(m, local.Options{}, &env, nil)
}

func startGit() error {
	log.SetOutput(io.Discard) // gitkit logs every request
	ctrllog.SetLogger(logr.Discard())
	root := filepath.Join(dir, "git")
	git = gittestserver.NewGitServer(root).AutoCreate().KeyDir(filepath.Join(dir, "git-keys"))
	git.Auth(gitUser, gitPassword)
	if err := git.StartHTTP(); err != nil {
		return err
	}
	if err := git.ListenSSH(); err != nil {
		return err
	}
	go func() { _ = git.StartSSH() }()
	return writeFile("password", gitPassword+"\n")
}

func writeFile(name, content string) error {
	return os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)
}

// weir runs the command against the local Weir and returns its exit code and its output.
func weir(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	start := time.Now()
	code := cmd.Execute(append([]string{"--kubeconfig", env.KubeconfigPath}, args...), &out, &out)
	t.Logf("weir %s: exit %d in %s\n%s", strings.Join(args, " "), code, time.Since(start).Round(time.Millisecond), out.String())
	return code, out.String()
}

// httpArgs are the flags of a bootstrap over HTTP basic auth of repo (e.g. "fleet.git").
func httpArgs(repo, path string, extra ...string) []string {
	return append([]string{"bootstrap", "git", "--url", git.HTTPAddress() + "/" + repo, "--branch", "main", "--path", path,
		"--username", gitUser, "--password-file", filepath.Join(dir, "password"),
		"--wait-for-controllers=false", "--timeout", "3m"}, extra...)
}

// sshKey writes a new client key and the server's known_hosts line, and returns their paths.
func sshKey(t *testing.T) (key, knownHostsFile string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	key = filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(key, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	pubs, _ := filepath.Glob(filepath.Join(dir, "git-keys", "*.pub"))
	if len(pubs) != 1 {
		t.Fatalf("SSH host keys: %v", pubs)
	}
	b, err := os.ReadFile(pubs[0])
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(git.SSHAddress(), "ssh://git@")
	knownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, pub) + "\n"
	if err := os.WriteFile(knownHostsFile, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return key, knownHostsFile
}

// eventually polls check until it returns nil, and fails t after timeout naming what.
var eventually = localtest.Eventually

func writeFileAt(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
