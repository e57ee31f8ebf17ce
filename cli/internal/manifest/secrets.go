package manifest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	corev1 "k8s.io/api/core/v1"
)

// Keys of the Secrets source-controller reads (source-controller/internal/git/auth.go,
// internal/transport): the same as Flux's.
const (
	keyUsername    = "username"
	keyPassword    = "password"
	keyBearerToken = "bearerToken"
	keyIdentity    = "identity"
	keyKnownHosts  = "known_hosts"
	keyCA          = "ca.crt"
	keyCert        = "tls.crt"
	keyKey         = "tls.key"
)

// GitAuth are the credentials of a Git remote. Files are read when the Secret is built.
type GitAuth struct {
	Username, Password, BearerToken string
	// PrivateKeyFile is a PEM private key for ssh:// URLs; Password is then its passphrase.
	PrivateKeyFile string
	// KnownHostsFile holds the known_hosts lines the ssh server's key must match.
	KnownHostsFile string
	// CAFile is a PEM CA bundle for https:// URLs.
	CAFile string
}

func (a GitAuth) empty() bool {
	return a.Username == "" && a.Password == "" && a.BearerToken == "" && a.PrivateKeyFile == "" && a.KnownHostsFile == "" && a.CAFile == ""
}

// GitSecret is `weir create secret git`.
type GitSecret struct {
	Meta
	// URL decides which credentials fit: ssh:// takes a key, http(s):// the others.
	URL string
	GitAuth
}

// Objects returns the Secret.
func (g GitSecret) Objects() ([]Object, error) {
	s, err := g.secret()
	if err != nil {
		return nil, err
	}
	return []Object{s}, nil
}

func (g GitSecret) secret() (*corev1.Secret, error) {
	u, err := parseURL("url", g.URL, "https", "http", "ssh")
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	if u.Scheme == "ssh" {
		if g.PrivateKeyFile == "" {
			return nil, errors.New("an ssh:// URL needs --private-key-file")
		}
		if g.Username != "" || g.BearerToken != "" || g.CAFile != "" {
			return nil, errors.New("an ssh:// URL takes --private-key-file, --password (its passphrase) and --ssh-known-hosts, not --username, --bearer-token or --ca-file")
		}
		key, err := readFile("private-key-file", g.PrivateKeyFile)
		if err != nil {
			return nil, err
		}
		if err := checkPrivateKey(key, g.Password); err != nil {
			return nil, fmt.Errorf("--private-key-file %s: %w", g.PrivateKeyFile, err)
		}
		if g.KnownHostsFile == "" {
			return nil, fmt.Errorf("an ssh:// URL needs --ssh-known-hosts: a file with the host key of %s (e.g. from `ssh-keyscan %s`)", u.Hostname(), u.Hostname())
		}
		kh, err := readFile("ssh-known-hosts", g.KnownHostsFile)
		if err != nil {
			return nil, err
		}
		if err := checkKnownHosts(kh); err != nil {
			return nil, fmt.Errorf("--ssh-known-hosts %s: %w", g.KnownHostsFile, err)
		}
		data[keyIdentity], data[keyKnownHosts] = key, kh
		if g.Password != "" {
			data[keyPassword] = []byte(g.Password)
		}
	} else {
		if g.PrivateKeyFile != "" || g.KnownHostsFile != "" {
			return nil, fmt.Errorf("--private-key-file and --ssh-known-hosts are for ssh:// URLs, not %s://", u.Scheme)
		}
		if g.BearerToken != "" && (g.Username != "" || g.Password != "") {
			return nil, errors.New("--bearer-token excludes --username and --password")
		}
		if g.Username != "" && g.Password == "" {
			return nil, errors.New("--username needs --password")
		}
		if g.Username != "" {
			data[keyUsername] = []byte(g.Username)
		}
		if g.Password != "" {
			data[keyPassword] = []byte(g.Password)
		}
		if g.BearerToken != "" {
			data[keyBearerToken] = []byte(g.BearerToken)
		}
		if g.CAFile != "" {
			ca, err := readCA("ca-file", g.CAFile)
			if err != nil {
				return nil, err
			}
			data[keyCA] = ca
		}
		if len(data) == 0 {
			return nil, errors.New("no credentials: give --username and --password, --bearer-token or --ca-file")
		}
	}
	return secretOf(g.Meta, data, corev1.SecretTypeOpaque)
}

// HelmSecret is `weir create secret helm`: basic auth and TLS for a HelmRepository (its
// secretRef and certSecretRef may both name it).
type HelmSecret struct {
	Meta
	Username, Password        string
	CertFile, KeyFile, CAFile string
}

// Objects returns the Secret.
func (h HelmSecret) Objects() ([]Object, error) {
	if (h.Username == "") != (h.Password == "") {
		return nil, errors.New("--username and --password go together")
	}
	data := map[string][]byte{}
	if h.Username != "" {
		data[keyUsername], data[keyPassword] = []byte(h.Username), []byte(h.Password)
	}
	if err := addTLS(data, h.CertFile, h.KeyFile, h.CAFile); err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, errors.New("no credentials: give --username and --password, or --cert-file and --key-file, or --ca-file")
	}
	s, err := secretOf(h.Meta, data, corev1.SecretTypeOpaque)
	if err != nil {
		return nil, err
	}
	return []Object{s}, nil
}

// TLSSecret is `weir create secret tls`: a client certificate and key, a CA bundle, or both.
type TLSSecret struct {
	Meta
	CertFile, KeyFile, CAFile string
}

// Objects returns the Secret.
func (t TLSSecret) Objects() ([]Object, error) {
	data := map[string][]byte{}
	if err := addTLS(data, t.CertFile, t.KeyFile, t.CAFile); err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, errors.New("give --cert-file and --key-file, --ca-file, or all three")
	}
	s, err := secretOf(t.Meta, data, corev1.SecretTypeOpaque)
	if err != nil {
		return nil, err
	}
	return []Object{s}, nil
}

// OCISecret is `weir create secret oci`: a `kubernetes.io/dockerconfigjson` Secret for one
// registry, as `kubectl create secret docker-registry` makes it.
type OCISecret struct {
	Meta
	// URL is the registry: a host, or an oci:// URL whose host is taken.
	URL                string
	Username, Password string
}

// Objects returns the Secret.
func (o OCISecret) Objects() ([]Object, error) {
	if o.URL == "" {
		return nil, errors.New("--url is required: the registry's host, e.g. ghcr.io")
	}
	host := o.URL
	if strings.Contains(host, "://") {
		u, err := parseURL("url", o.URL, "oci", "https", "http")
		if err != nil {
			return nil, err
		}
		host = u.Host
	}
	host, _, _ = strings.Cut(host, "/")
	if o.Username == "" || o.Password == "" {
		return nil, errors.New("--username and --password are required")
	}
	type entry struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Auth     string `json:"auth"`
	}
	cfg, err := json.Marshal(map[string]map[string]entry{"auths": {host: {
		Username: o.Username, Password: o.Password,
		Auth: base64.StdEncoding.EncodeToString([]byte(o.Username + ":" + o.Password)),
	}}})
	if err != nil {
		return nil, err
	}
	s, err := secretOf(o.Meta, map[string][]byte{corev1.DockerConfigJsonKey: cfg}, corev1.SecretTypeDockerConfigJson)
	if err != nil {
		return nil, err
	}
	return []Object{s}, nil
}

// addTLS reads a client certificate and key (together) and a CA bundle into data.
func addTLS(data map[string][]byte, certFile, keyFile, caFile string) error {
	if (certFile == "") != (keyFile == "") {
		return errors.New("--cert-file and --key-file go together")
	}
	if certFile != "" {
		cert, err := readFile("cert-file", certFile)
		if err != nil {
			return err
		}
		key, err := readFile("key-file", keyFile)
		if err != nil {
			return err
		}
		if _, err := tls.X509KeyPair(cert, key); err != nil {
			return fmt.Errorf("--cert-file %s and --key-file %s are no matching PEM certificate and key", certFile, keyFile)
		}
		data[keyCert], data[keyKey] = cert, key
	}
	if caFile != "" {
		ca, err := readCA("ca-file", caFile)
		if err != nil {
			return err
		}
		data[keyCA] = ca
	}
	return nil
}

// maxFile bounds the files the flags name: keys, certificates and known_hosts are small.
const maxFile = 1 << 20

func readFile(flag, path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	if fi.Size() > maxFile {
		return nil, fmt.Errorf("--%s %s: larger than %d bytes", flag, path, maxFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	return b, nil
}

// readCA reads a PEM bundle with at least one certificate.
func readCA(flag, path string) ([]byte, error) {
	b, err := readFile(flag, path)
	if err != nil {
		return nil, err
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--%s %s: no PEM certificate in it", flag, path)
	}
	return b, nil
}

// checkPrivateKey checks that key parses, with passphrase when it is encrypted. The parser's
// error is not passed on: it could quote key material.
func checkPrivateKey(key []byte, passphrase string) error {
	if blk, _ := pem.Decode(key); blk == nil {
		return errors.New("not a PEM private key")
	}
	_, err := ssh.ParsePrivateKey(key)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &missing):
		if passphrase == "" {
			return errors.New("the key is encrypted: give its passphrase with --password")
		}
		if _, err := ssh.ParsePrivateKeyWithPassphrase(key, []byte(passphrase)); err != nil {
			return errors.New("the passphrase (--password) does not decrypt the key")
		}
		return nil
	default:
		return errors.New("not a private key ssh can use")
	}
}

// checkKnownHosts checks that b holds at least one known_hosts line.
func checkKnownHosts(b []byte) error {
	rest, n := b, 0
	for len(rest) > 0 {
		_, _, _, _, next, err := ssh.ParseKnownHosts(rest)
		if err != nil {
			if n == 0 {
				return errors.New("no known_hosts line in it")
			}
			break
		}
		n++
		rest = next
	}
	if n == 0 {
		return errors.New("no known_hosts line in it")
	}
	return nil
}
