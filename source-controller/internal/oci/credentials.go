package oci

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"oras.land/oras-go/v2/registry/remote/auth"
)

// DockerConfigKey is the key of a `kubernetes.io/dockerconfigjson` Secret's data.
const DockerConfigKey = ".dockerconfigjson"

// dockerConfig is the part of a Docker config.json credentials live in.
type dockerConfig struct {
	Auths map[string]struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Auth     string `json:"auth"`
	} `json:"auths"`
}

// CredentialFromDockerConfig returns the credential a Docker config.json holds for host
// (host[:port]; keys may be written as URLs), and whether it holds one. Errors describe the
// structure at fault, never a value.
func CredentialFromDockerConfig(data []byte, host string) (auth.Credential, bool, error) {
	var cfg dockerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return auth.EmptyCredential, false, errors.New("is not valid Docker config JSON")
	}
	for key, a := range cfg.Auths {
		if normalizeHost(key) != host {
			continue
		}
		user, pass := a.Username, a.Password
		if a.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return auth.EmptyCredential, false, fmt.Errorf("the 'auth' of '%s' is not base64", host)
			}
			var ok bool
			if user, pass, ok = strings.Cut(string(raw), ":"); !ok {
				return auth.EmptyCredential, false, fmt.Errorf("the 'auth' of '%s' is not user:password", host)
			}
		}
		if user == "" && pass == "" {
			return auth.EmptyCredential, false, fmt.Errorf("the entry for '%s' has no credentials", host)
		}
		return auth.Credential{Username: user, Password: pass}, true, nil
	}
	return auth.EmptyCredential, false, nil
}

// normalizeHost reduces a config.json key (`https://host/v1/`, `host`) to host[:port].
func normalizeHost(key string) string {
	key = strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	key, _, _ = strings.Cut(key, "/")
	if key == "index.docker.io" {
		return "docker.io"
	}
	return key
}
