package bootstrap

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Keys of the Secret source-controller reads for a GitRepository (see
// source-controller/internal/git/auth.go).
const (
	KeyUsername   = "username"
	KeyPassword   = "password"
	KeyIdentity   = "identity"
	KeyKnownHosts = "known_hosts"
)

// Credentials reach the repository: HTTP basic auth (Username, Password) for an http(s) URL,
// or an SSH key (Identity, with KnownHostsFile to check the server) for an ssh:// URL. The zero
// value is anonymous HTTP.
type Credentials struct {
	Username, Password string
	// Identity is a PEM private key; Passphrase decrypts it when it is encrypted.
	Identity, Passphrase []byte
	// KnownHostsFile is the known_hosts file the SSH server's host key must be in. Unknown
	// hosts are refused: there is no way to skip the check.
	KnownHostsFile string

	// hostKey records the host key the SSH server showed and known_hosts accepted: the
	// Secret's known_hosts is that one line, not the user's whole file.
	hostKey *hostKeyRecorder
}

// ParseURL checks that raw is a URL source-controller can fetch (http, https or ssh, with a
// host and a path) and carries no password: credentials go in flags or files, never in a URL
// that would be committed to the repository and shown in status.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--url: not a URL")
	}
	switch u.Scheme {
	case "http", "https", "ssh":
	default:
		return nil, fmt.Errorf("--url %s: want an http, https or ssh:// URL (e.g. ssh://git@host/org/repo.git)", Redact(u))
	}
	if u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return nil, fmt.Errorf("--url %s: needs a host and a repository path", Redact(u))
	}
	if _, has := u.User.Password(); has {
		return nil, fmt.Errorf("--url %s: has a password in it; pass it with --password-file or $%s instead", Redact(u), PasswordEnv)
	}
	if u.Scheme != "ssh" && u.User != nil {
		return nil, fmt.Errorf("--url %s: has a user name in it; pass it with --username instead", Redact(u))
	}
	return u, nil
}

// PasswordEnv is the environment variable a password may come from instead of a file.
const PasswordEnv = "WEIR_GIT_PASSWORD"

// Redact returns u without its userinfo's password, for messages.
func Redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	return c.String()
}

// Validate checks the credentials fit u's scheme.
func (c *Credentials) Validate(u *url.URL) error {
	if u.Scheme == "ssh" {
		if len(c.Identity) == 0 {
			return errors.New("an ssh:// URL needs --private-key-file")
		}
		if c.Password != "" || c.Username != "" {
			return errors.New("--username and --password-file are for http(s) URLs; an ssh:// URL takes its user from the URL and a key from --private-key-file")
		}
		if c.KnownHostsFile == "" {
			return errors.New("an ssh:// URL needs --ssh-known-hosts-file holding the server's host key")
		}
		return nil
	}
	if len(c.Identity) > 0 {
		return errors.New("--private-key-file is for ssh:// URLs")
	}
	if c.Password != "" && c.Username == "" {
		c.Username = "git"
	}
	return nil
}

// method returns the go-git authentication for u.
func (c *Credentials) method(u *url.URL) (transport.AuthMethod, error) {
	if u.Scheme != "ssh" {
		if c.Username == "" && c.Password == "" {
			return nil, nil
		}
		return &githttp.BasicAuth{Username: c.Username, Password: c.Password}, nil
	}
	user := u.User.Username()
	if user == "" {
		user = "git"
	}
	keys, err := gitssh.NewPublicKeys(user, c.Identity, string(c.Passphrase))
	if err != nil {
		var pe *ssh.PassphraseMissingError
		if errors.As(err, &pe) {
			return nil, errors.New("--private-key-file: the key is encrypted; give its passphrase in $" + PassphraseEnv)
		}
		return nil, errors.New("--private-key-file: not a PEM private key, or a wrong passphrase")
	}
	check, err := knownhosts.New(c.KnownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("--ssh-known-hosts-file: %w", err)
	}
	c.hostKey = &hostKeyRecorder{check: check}
	keys.HostKeyCallback = c.hostKey.callback
	return keys, nil
}

// PassphraseEnv is the environment variable an encrypted SSH key's passphrase comes from.
const PassphraseEnv = "WEIR_SSH_PASSPHRASE"

// hostKeyRecorder checks an SSH server's host key against known_hosts and keeps the line that
// matched it.
type hostKeyRecorder struct {
	check ssh.HostKeyCallback
	mu    sync.Mutex
	line  string
}

func (h *hostKeyRecorder) callback(hostname string, remote net.Addr, key ssh.PublicKey) error {
	if err := h.check(hostname, remote, key); err != nil {
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) && len(ke.Want) == 0 {
			return fmt.Errorf("the ssh host key of %s is not in --ssh-known-hosts-file (add it, e.g. with ssh-keyscan, after checking it)", hostname)
		}
		return fmt.Errorf("the ssh host key of %s does not match --ssh-known-hosts-file: refusing to connect", hostname)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.line = knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key)
	return nil
}

// SecretData returns the credentials as the Secret source-controller reads for the
// GitRepository: username/password for http(s); identity, known_hosts (the host key line this
// run verified) and the passphrase as password for ssh. Nil means anonymous: no Secret.
// Call it after Clone, which records the SSH host key.
func (c *Credentials) SecretData(u *url.URL) (map[string][]byte, error) {
	if u.Scheme == "ssh" {
		known, err := c.knownHosts()
		if err != nil {
			return nil, err
		}
		d := map[string][]byte{KeyIdentity: c.Identity, KeyKnownHosts: known}
		if len(c.Passphrase) > 0 {
			d[KeyPassword] = c.Passphrase
		}
		return d, nil
	}
	if c.Username == "" && c.Password == "" {
		return nil, nil
	}
	return map[string][]byte{KeyUsername: []byte(c.Username), KeyPassword: []byte(c.Password)}, nil
}

func (c *Credentials) knownHosts() ([]byte, error) {
	if c.hostKey != nil {
		c.hostKey.mu.Lock()
		line := c.hostKey.line
		c.hostKey.mu.Unlock()
		if line != "" {
			return []byte(line + "\n"), nil
		}
	}
	return os.ReadFile(c.KnownHostsFile)
}
