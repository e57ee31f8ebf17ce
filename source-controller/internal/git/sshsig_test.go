package git_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"weir.dev/source-controller/internal/git"
	"weir.dev/source-controller/internal/gittest"
)

// TestVerifySSHCommit: a commit with an SSH signature verifies against the signer's public key
// in authorized_keys form (beside OpenPGP keys in the same Secret); a signature by another key
// names the commit and that key; a commit whose content no longer matches its signature fails.
func TestVerifySSHCommit(t *testing.T) {
	signer, stranger := gittest.NewSSHSigner(t), gittest.NewSSHSigner(t)
	pgp, _ := newPGPKey(t)
	keys := map[string][]byte{"team.pub": signer.AuthorizedKey, "old.asc": pgp}

	srv := gittest.NewServer(t, gittest.Options{})
	repo := srv.NewRepo(t, "org/app.git", "main", map[string]string{"f.txt": "v0"})
	good := repo.CommitSigned(map[string]string{"f.txt": "signed"}, "signed", signer)
	bad := repo.CommitSigned(map[string]string{"f.txt": "stranger"}, "by a stranger", stranger)

	for _, tc := range []struct {
		hash, wantErr string
	}{
		{good, ""},
		{bad, "commit " + bad + " is signed with SSH key SHA256:"},
	} {
		c, err := repo.Git.CommitObject(plumbing.NewHash(tc.hash))
		if err != nil {
			t.Fatal(err)
		}
		id, err := git.VerifyCommit(c, keys)
		switch {
		case tc.wantErr == "" && (err != nil || !strings.HasPrefix(id, "SHA256:")):
			t.Errorf("commit %s: id %q, err %v", tc.hash, id, err)
		case tc.wantErr != "" && (!errors.Is(err, git.ErrVerification) || !strings.Contains(fmtErr(err), tc.wantErr) || !strings.Contains(fmtErr(err), "not in the verification secret")):
			t.Errorf("commit %s: err %v, want %q", tc.hash, err, tc.wantErr)
		}
	}

	c, err := repo.Git.CommitObject(plumbing.NewHash(good))
	if err != nil {
		t.Fatal(err)
	}
	c.Message = "tampered"
	if _, err := git.VerifyCommit(c, keys); !errors.Is(err, git.ErrVerification) || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("tampered commit: %v", err)
	}
	if _, err := git.VerifyCommit(c, map[string][]byte{"old.asc": pgp}); !errors.Is(err, git.ErrVerification) {
		t.Errorf("no SSH key in the secret: %v", err)
	}
}

// TestVerifySSHWithGitCLI: commits and tags that git itself signs with ssh-keygen
// (gpg.format=ssh) verify, and only with the signer's key.
func TestVerifySSHWithGitCLI(t *testing.T) {
	for _, tool := range []string{"git", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	dir := t.TempDir()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	key := filepath.Join(t.TempDir(), "id")
	other := filepath.Join(t.TempDir(), "other")
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
	run("ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", other)
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	otherPub, err := os.ReadFile(other + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	cfg := []string{"-c", "user.name=Weir", "-c", "user.email=w@weir.dev", "-c", "gpg.format=ssh", "-c", "user.signingkey=" + key}
	run("git", "init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(dir, "f.txt"), []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("git", "add", "f.txt")
	run("git", append(cfg, "commit", "-q", "-S", "-m", "signed by git")...)
	run("git", append(cfg, "tag", "-s", "v1.0.0", "-m", "release")...)
	head := run("git", "rev-parse", "HEAD")
	tagObject := run("git", "rev-parse", "v1.0.0")

	repo, err := gogit.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.CommitObject(plumbing.NewHash(head))
	if err != nil {
		t.Fatal(err)
	}
	for _, keys := range []map[string][]byte{{"k": pub}, {"both": append(append([]byte{}, otherPub...), pub...)}} {
		if _, err := git.VerifyCommit(c, keys); err != nil {
			t.Errorf("commit signed by git: %v", err)
		}
		if _, err := git.VerifyTag(repo, tagObject, keys); err != nil {
			t.Errorf("tag signed by git: %v", err)
		}
	}
	if _, err := git.VerifyCommit(c, map[string][]byte{"k": otherPub}); !errors.Is(err, git.ErrVerification) {
		t.Errorf("commit checked against another key: %v", err)
	}
	if _, err := git.VerifyTag(repo, tagObject, map[string][]byte{"k": otherPub}); !errors.Is(err, git.ErrVerification) {
		t.Errorf("tag checked against another key: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// newPGPKey returns an armored OpenPGP public key.
func newPGPKey(t *testing.T) ([]byte, error) {
	e, err := openpgp.NewEntity("Old", "", "old@weir.dev", nil)
	if err != nil {
		t.Fatal(err)
	}
	return armored(t, e), nil
}
