package git

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Keys of the credentials Secret a GitRepository's spec.secretRef names.
const (
	KeyUsername    = "username"
	KeyPassword    = "password"
	KeyBearerToken = "bearerToken"
	KeyIdentity    = "identity"
	KeyKnownHosts  = "known_hosts"
	KeyCA          = "ca.crt"
	KeyCert        = "tls.crt"
	KeyKey         = "tls.key"
)

// Auth holds the credentials for one remote. The zero value is anonymous access.
type Auth struct {
	Username, Password string
	BearerToken        string
	CABundle           []byte
	ClientCert         []byte
	ClientKey          []byte
	// SSH: a PEM private key, its optional passphrase and the known_hosts lines the server's
	// host key must match. SSH without known_hosts is refused.
	Identity   []byte
	Passphrase []byte
	KnownHosts []byte
}

// AuthFromSecretData reads credentials for u from a Secret's data. It fails with a message
// naming the missing or conflicting key, never a value.
func AuthFromSecretData(u *url.URL, data map[string][]byte) (*Auth, error) {
	a := &Auth{
		Username:    string(data[KeyUsername]),
		Password:    string(data[KeyPassword]),
		BearerToken: string(data[KeyBearerToken]),
		CABundle:    data[KeyCA],
		ClientCert:  data[KeyCert],
		ClientKey:   data[KeyKey],
		Identity:    data[KeyIdentity],
		KnownHosts:  data[KeyKnownHosts],
	}
	switch u.Scheme {
	case "ssh":
		if len(a.Identity) == 0 {
			return nil, fmt.Errorf("secret has no %q key, needed for an ssh URL", KeyIdentity)
		}
		if len(a.KnownHosts) == 0 {
			return nil, fmt.Errorf("secret has no %q key, needed to check the ssh host key", KeyKnownHosts)
		}
		a.Passphrase = data[KeyPassword]
		a.Password = ""
	default:
		if a.BearerToken != "" && (a.Username != "" || a.Password != "") {
			return nil, fmt.Errorf("secret has both %q and %q/%q: use one", KeyBearerToken, KeyUsername, KeyPassword)
		}
		if (len(a.ClientCert) == 0) != (len(a.ClientKey) == 0) {
			return nil, fmt.Errorf("secret needs both %q and %q for client certificate authentication", KeyCert, KeyKey)
		}
		if a.Password != "" && a.Username == "" {
			a.Username = "git"
		}
	}
	return a, nil
}

// method returns the go-git authentication for u.
func (a *Auth) method(u *url.URL) (transport.AuthMethod, error) {
	if a == nil {
		if u.Scheme == "ssh" {
			return nil, errors.New("an ssh URL needs spec.secretRef with an identity and known_hosts")
		}
		return nil, nil
	}
	switch u.Scheme {
	case "ssh":
		user := u.User.Username()
		if user == "" {
			user = "git"
		}
		keys, err := gitssh.NewPublicKeys(user, a.Identity, string(a.Passphrase))
		if err != nil {
			return nil, fmt.Errorf("reading the ssh identity: %w", scrub(err))
		}
		cb, err := hostKeyCallback(a.KnownHosts)
		if err != nil {
			return nil, err
		}
		keys.HostKeyCallback = cb
		return keys, nil
	default:
		if a.BearerToken != "" {
			return &githttp.TokenAuth{Token: a.BearerToken}, nil
		}
		if a.Username != "" || a.Password != "" {
			return &githttp.BasicAuth{Username: a.Username, Password: a.Password}, nil
		}
		return nil, nil
	}
}

// hostKeyCallback checks host keys against known_hosts lines. x/crypto's knownhosts reads a
// file, so the lines go through a private temporary file that is removed at once.
func hostKeyCallback(knownHosts []byte) (ssh.HostKeyCallback, error) {
	dir, err := os.MkdirTemp("", "known-hosts-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	f := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(f, knownHosts, 0o600); err != nil {
		return nil, err
	}
	cb, err := knownhosts.New(f)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", KeyKnownHosts, err)
	}
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		if err := cb(hostname, remote, key); err != nil {
			return fmt.Errorf("ssh host key of %s does not match %s", hostname, KeyKnownHosts)
		}
		return nil
	}, nil
}

// scrub drops an error's text when it could quote key material; the type of error is enough.
func scrub(err error) error {
	var pe *ssh.PassphraseMissingError
	if errors.As(err, &pe) {
		return errors.New("the key is encrypted and the secret has no password (passphrase)")
	}
	return errors.New("not a valid PEM private key, or a wrong passphrase")
}
