package oci

import (
	"encoding/base64"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParseURL(t *testing.T) {
	cases := []struct{ url, host, path, err string }{
		{"oci://ghcr.io/org/app", "ghcr.io", "org/app", ""},
		{"oci://127.0.0.1:5000/app/", "127.0.0.1:5000", "app", ""},
		{"https://ghcr.io/org/app", "", "", "must start with oci://"},
		{"oci://ghcr.io", "", "", "oci://<host>/<repository>"},
		{"oci://ghcr.io/org/app:v1", "", "", "must not carry a tag"},
		{"oci://ghcr.io/org/app@sha256:00", "", "", "must not carry a tag"},
		{"oci://user:Pw-9@ghcr.io/org/app", "", "", "must not carry credentials"},
	}
	for _, tc := range cases {
		host, path, err := ParseURL(tc.url)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "Pw-9") {
				t.Errorf("ParseURL(%q): %v, want %q", tc.url, err, tc.err)
			}
			continue
		}
		if err != nil || host != tc.host || path != tc.path {
			t.Errorf("ParseURL(%q) = %q, %q, %v", tc.url, host, path, err)
		}
	}
}

func TestCredentialFromDockerConfig(t *testing.T) {
	auth := base64.StdEncoding.EncodeToString([]byte("bob:Dc-Pw-4Rr"))
	cfg := []byte(`{"auths":{"https://reg.example.com/v1/":{"auth":"` + auth + `"},"other:5000":{"username":"al","password":"x"},"broken":{"auth":"%%%"}}}`)
	cred, ok, err := CredentialFromDockerConfig(cfg, "reg.example.com")
	if err != nil || !ok || cred.Username != "bob" || cred.Password != "Dc-Pw-4Rr" {
		t.Fatalf("reg.example.com: %+v %v %v", cred, ok, err)
	}
	if cred, ok, err := CredentialFromDockerConfig(cfg, "other:5000"); err != nil || !ok || cred.Username != "al" {
		t.Fatalf("other:5000: %+v %v %v", cred, ok, err)
	}
	if _, ok, err := CredentialFromDockerConfig(cfg, "nowhere"); ok || err != nil {
		t.Fatalf("nowhere: %v %v", ok, err)
	}
	if _, _, err := CredentialFromDockerConfig(cfg, "broken"); err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Fatalf("broken: %v", err)
	}
	if _, _, err := CredentialFromDockerConfig([]byte("{"), "x"); err == nil || strings.Contains(err.Error(), "{") {
		t.Fatalf("bad JSON: %v", err)
	}
}

func TestSelectLayer(t *testing.T) {
	m := &ocispec.Manifest{Layers: []ocispec.Descriptor{{MediaType: "a", Size: 1}, {MediaType: "b", Size: 2}, {MediaType: "b", Size: 3}}}
	if l, err := SelectLayer(m, ""); err != nil || l.Size != 1 {
		t.Errorf("first layer: %+v %v", l, err)
	}
	if l, err := SelectLayer(m, "b"); err != nil || l.Size != 2 {
		t.Errorf("first of type b: %+v %v", l, err)
	}
	if _, err := SelectLayer(m, "c"); err == nil || !strings.Contains(err.Error(), "no layer of media type 'c'") {
		t.Errorf("type c: %v", err)
	}
	if _, err := SelectLayer(&ocispec.Manifest{}, ""); err == nil {
		t.Error("a manifest without layers")
	}
}
