package receiver_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"weir.dev/notification-controller/internal/egress"
	"weir.dev/notification-controller/internal/harness"
	"weir.dev/notification-controller/internal/notifier"
	"weir.dev/notification-controller/internal/receiver"
)

// loopback reaches the test issuer on 127.0.0.1, as --allow-internal-addresses does.
var loopback = notifier.NewClient(nil, &egress.Policy{AllowInternal: true})

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// TestIDTokensCheckSignatureIssuerAudienceAndExpiry: a token is accepted only when signed by
// a key the issuer publishes, issued by the configured issuer, for the configured audience and
// not expired; each rejection is a 401 saying which check failed and never quoting the token.
func TestIDTokensCheckSignatureIssuerAudienceAndExpiry(t *testing.T) {
	iss := harness.NewIssuer(t)
	const aud = "https://hooks.example.com/weir"
	settings := receiver.OIDCSettings{Issuer: iss.URL, Audience: aud, JWKSURL: iss.JWKSURL()}
	discovered := receiver.OIDCSettings{Issuer: iss.URL, Audience: aud}
	with := func(edit func(map[string]any)) map[string]any {
		c := iss.Claims(aud)
		edit(c)
		return c
	}
	cases := []struct {
		name     string
		settings receiver.OIDCSettings
		header   http.Header
		want     string // "" accepted; else a substring of the 401's message
	}{
		{name: "RS256 with the JWKS URL", settings: settings, header: bearer(iss.Sign(t, "RS256", iss.Claims(aud)))},
		{name: "ES256", settings: settings, header: bearer(iss.Sign(t, "ES256", iss.Claims(aud)))},
		{name: "keys from discovery", settings: discovered, header: bearer(iss.Sign(t, "RS256", iss.Claims(aud)))},
		{name: "audience among several", settings: settings, header: bearer(iss.Sign(t, "RS256", with(func(c map[string]any) { c["aud"] = []string{"other", aud} })))},
		{name: "subject required and matching", settings: receiver.OIDCSettings{Issuer: iss.URL, Audience: aud, JWKSURL: iss.JWKSURL(), Subject: "ci@example.com"},
			header: bearer(iss.Sign(t, "RS256", iss.Claims(aud)))},
		{name: "no Authorization", settings: settings, header: http.Header{}, want: "missing Authorization: Bearer"},
		{name: "basic instead of bearer", settings: settings, header: http.Header{"Authorization": {"Basic YTpi"}}, want: "missing Authorization: Bearer"},
		{name: "not a JWT", settings: settings, header: bearer("not-a-jwt-but-a-secret-value"), want: "invalid ID token"},
		{name: "forged signature", settings: settings, header: bearer(iss.Sign(t, "forged", iss.Claims(aud))), want: "invalid ID token"},
		{name: "another audience", settings: settings, header: bearer(iss.Sign(t, "RS256", with(func(c map[string]any) { c["aud"] = "https://elsewhere" }))), want: "audience"},
		{name: "another issuer", settings: settings, header: bearer(iss.Sign(t, "RS256", with(func(c map[string]any) { c["iss"] = "https://evil.example.com" }))), want: "issued by"},
		{name: "another issuer with discovery", settings: discovered, header: bearer(iss.Sign(t, "RS256", with(func(c map[string]any) { c["iss"] = "https://evil.example.com" }))), want: "issue"},
		{name: "expired", settings: settings, header: bearer(iss.Sign(t, "RS256", with(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }))), want: "expired"},
		{name: "another subject", settings: receiver.OIDCSettings{Issuer: iss.URL, Audience: aud, JWKSURL: iss.JWKSURL(), Subject: "deployer@example.com"},
			header: bearer(iss.Sign(t, "RS256", iss.Claims(aud))), want: "subject"},
		{name: "unsigned (alg none)", settings: settings, header: bearer(unsigned(iss.Claims(aud))), want: "invalid ID token"},
	}
	tokens := receiver.NewIDTokens(loopback)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tokens.Verify(context.Background(), tc.settings, tc.header)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			var rerr *receiver.Error
			if !errors.As(err, &rerr) || rerr.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a 401 with %q", err, tc.want)
			}
			raw := strings.TrimPrefix(tc.header.Get("Authorization"), "Bearer ")
			if raw != "" && strings.Contains(err.Error(), raw) {
				t.Fatalf("the error quotes the token: %v", err)
			}
		})
	}
	// One fetch of the keys per verifier (two: by URL and by discovery), whatever the number
	// of tokens; the forged token's unknown signature may cause one refetch.
	if n := iss.KeyFetches(); n > 4 {
		t.Errorf("the keys were fetched %d times for %d tokens", n, len(cases))
	}
}

// unsigned returns claims as a JWT with alg none.
func unsigned(claims map[string]any) string {
	b, _ := jsonMarshal(claims)
	return b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(string(b)) + "."
}

// TestGoogleIDTokensForGCR: a gcr Receiver accepts Google's short issuer spelling and checks
// the service account's email, verified.
func TestGoogleIDTokensForGCR(t *testing.T) {
	iss := harness.NewIssuer(t)
	const aud = "weir-gcr"
	// The Secret points gcr at the test issuer in place of Google's.
	s, err := receiver.OIDCSettingsFrom("gcr", "gcr", map[string][]byte{"audience": []byte(aud), "issuer": []byte(receiver.GoogleIssuer),
		"jwksURL": []byte(iss.JWKSURL()), "email": []byte("pubsub@proj.iam.gserviceaccount.com")})
	if err != nil {
		t.Fatal(err)
	}
	claims := func(iss, email string, verified bool) map[string]any {
		now := time.Now()
		return map[string]any{"iss": iss, "aud": aud, "sub": "1234", "email": email, "email_verified": verified,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	tokens := receiver.NewIDTokens(loopback)
	for _, tc := range []struct {
		claims map[string]any
		ok     bool
	}{
		{claims("https://accounts.google.com", "pubsub@proj.iam.gserviceaccount.com", true), true},
		{claims("accounts.google.com", "pubsub@proj.iam.gserviceaccount.com", true), true},
		{claims("https://accounts.google.com", "other@proj.iam.gserviceaccount.com", true), false},
		{claims("https://accounts.google.com", "pubsub@proj.iam.gserviceaccount.com", false), false},
		{claims("https://accounts.evil.com", "pubsub@proj.iam.gserviceaccount.com", true), false},
	} {
		err := tokens.Verify(context.Background(), s, bearer(iss.Sign(t, "RS256", tc.claims)))
		if (err == nil) != tc.ok {
			t.Errorf("claims %v: got %v, want accepted=%v", tc.claims, err, tc.ok)
		}
	}
	// Without overrides, gcr trusts Google.
	s, err = receiver.OIDCSettingsFrom("gcr", "gcr", map[string][]byte{"audience": []byte(aud)})
	if err != nil || s.Issuer != receiver.GoogleIssuer || s.JWKSURL != receiver.GoogleJWKSURL {
		t.Fatalf("gcr defaults: %+v, %v", s, err)
	}
}

func TestOIDCSettingsNameWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		data map[string]string
		want string
	}{
		{"generic-oidc", map[string]string{"audience": "a"}, "secret 'oidc' has no 'issuer' key: type generic-oidc needs the issuer"},
		{"generic-oidc", map[string]string{"issuer": "https://i"}, "secret 'oidc' has no 'audience' key"},
		{"gcr", map[string]string{}, "secret 'oidc' has no 'audience' key: type gcr needs"},
		{"generic-oidc", map[string]string{"issuer": "ftp://i", "audience": "a"}, "secret 'oidc' key 'issuer' is not an http(s) URL"},
	} {
		data := map[string][]byte{}
		for k, v := range tc.data {
			data[k] = []byte(v)
		}
		if _, err := receiver.OIDCSettingsFrom(tc.typ, "oidc", data); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: got %v, want %q", tc.typ, tc.data, err, tc.want)
		}
	}
}

// TestOIDCTypesRefuseUnverifiedRequests: Verify never accepts a generic-oidc or gcr request
// the caller did not check the ID token of.
func TestOIDCTypesRefuseUnverifiedRequests(t *testing.T) {
	for _, typ := range []string{"generic-oidc", "gcr"} {
		_, err := receiver.Verify(typ, []byte("t"), nil, receiver.Request{Header: http.Header{}, Body: []byte(`{}`)})
		var rerr *receiver.Error
		if !errors.As(err, &rerr) || rerr.Status != http.StatusUnauthorized {
			t.Errorf("%s: got %v, want 401", typ, err)
		}
	}
}
