package harness

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Issuer is an OpenID Connect issuer on 127.0.0.1 for Receiver tests: it serves its discovery
// document and its keys (JWKS), and signs ID tokens with them.
type Issuer struct {
	*httptest.Server
	rsaKey *rsa.PrivateKey
	ecKey  *ecdsa.PrivateKey
	// Other is a key the issuer does not publish, for forged tokens.
	other      *rsa.PrivateKey
	keyFetches atomic.Int64
}

// NewIssuer starts an Issuer whose issuer URL is its server's URL; it stops with the test.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{}
	var err error
	if i.rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if i.other, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if i.ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                i.URL,
			"jwks_uri":                              i.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		i.keyFetches.Add(1)
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &i.rsaKey.PublicKey, KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"},
			{Key: &i.ecKey.PublicKey, KeyID: "ec-1", Algorithm: "ES256", Use: "sig"},
		}}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
	i.Server = httptest.NewServer(mux)
	t.Cleanup(i.Close)
	return i
}

// JWKSURL is where the issuer serves its keys.
func (i *Issuer) JWKSURL() string { return i.URL + "/keys" }

// KeyFetches counts the requests for the keys so far.
func (i *Issuer) KeyFetches() int64 { return i.keyFetches.Load() }

// Claims returns the claims of a token valid for an hour from now: iss is the issuer, aud
// audience, sub "ci@example.com".
func (i *Issuer) Claims(audience string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": i.URL, "aud": audience, "sub": "ci@example.com",
		"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
}

// Sign returns claims as a compact JWS: alg "RS256" or "ES256" with the published keys,
// "forged" with an RS256 key that is not published.
func (i *Issuer) Sign(t testing.TB, alg string, claims map[string]any) string {
	t.Helper()
	key := jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: i.rsaKey, KeyID: "rsa-1"}}
	switch alg {
	case "ES256":
		key = jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: i.ecKey, KeyID: "ec-1"}}
	case "forged":
		key = jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: i.other, KeyID: "rsa-1"}}
	}
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
