package verification

import (
	"context"
	"errors"
	"strings"
	"testing"

	"weir.dev/source-controller/internal/ocitest"
)

// TestVerify: a signature by a trusted key verifies and names the key; an artifact signed by
// another key, or not signed at all, does not.
func TestVerify(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{User: "u", Password: "Cosign-Reg-1Pw"})
	layer := []ocitest.Layer{{MediaType: ocitest.FluxContentMediaType, Data: ocitest.TarGz(t, map[string]string{"a.yaml": "a"})}}
	signed := reg.Push(t, "app", "signed", layer, map[string]string{"v": "1"}).String()
	other := reg.Push(t, "app", "other", layer, map[string]string{"v": "2"}).String()
	unsigned := reg.Push(t, "app", "unsigned", layer, map[string]string{"v": "3"}).String()
	trusted, untrusted := ocitest.NewCosignKey(t), ocitest.NewCosignKey(t)
	reg.CosignSign(t, "app", signed, trusted)
	reg.CosignSign(t, "app", other, untrusted)

	keys, err := PublicKeys(map[string][]byte{"team.pub": trusted.PublicPEM, "README": []byte("not a key")})
	if err != nil {
		t.Fatal(err)
	}
	registry := Registry{Transport: reg.Server.Client().Transport, PlainHTTP: true, Username: "u", Password: "Cosign-Reg-1Pw"}
	ctx := context.Background()
	if k, err := Verify(ctx, reg.Host+"/app", signed, keys, registry); err != nil || k != "team.pub" {
		t.Fatalf("signed by the trusted key: %q, %v", k, err)
	}
	for name, digest := range map[string]string{"signed by another key": other, "unsigned": unsigned} {
		_, err := Verify(ctx, reg.Host+"/app", digest, keys, registry)
		if !errors.Is(err, ErrNoValidSignature) || !strings.Contains(err.Error(), digest) {
			t.Errorf("%s: %v, want ErrNoValidSignature naming the digest", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "Cosign-Reg-1Pw") {
			t.Errorf("%s: the error shows the registry password", name)
		}
	}
}

func TestPublicKeysNamesTheBadKey(t *testing.T) {
	if _, err := PublicKeys(map[string][]byte{"a.pub": []byte("Secret-Looking-7Zx")}); err == nil ||
		!strings.Contains(err.Error(), "'a.pub' is not a PEM public key") || strings.Contains(err.Error(), "7Zx") {
		t.Fatalf("error %v", err)
	}
	if _, err := PublicKeys(map[string][]byte{"key": []byte("x")}); err == nil || !strings.Contains(err.Error(), "no key ending in '.pub'") {
		t.Fatalf("error %v", err)
	}
}
