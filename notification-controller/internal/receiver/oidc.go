package receiver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/pkg/steps"
)

// Keys of a Receiver's Secret that say which ID tokens the generic-oidc and gcr types accept.
const (
	IssuerKey   = "issuer"
	AudienceKey = "audience"
	JWKSURLKey  = "jwksURL"
	SubjectKey  = "subject"
	EmailKey    = "email"
)

// Google signs the ID tokens of Pub/Sub push subscriptions: the issuer and keys of type gcr
// unless its Secret sets others.
const (
	GoogleIssuer  = "https://accounts.google.com"
	GoogleJWKSURL = "https://www.googleapis.com/oauth2/v3/certs"
)

// OIDCSettings say which bearer ID tokens a Receiver accepts.
type OIDCSettings struct {
	// Issuer must equal the token's iss.
	Issuer string
	// Audience must be among the token's aud.
	Audience string
	// JWKSURL serves the issuer's signing keys; empty means the issuer's discovery document
	// (<issuer>/.well-known/openid-configuration) says where.
	JWKSURL string
	// Subject, when set, must equal the token's sub.
	Subject string
	// Email, when set, must equal the token's email, and the token must say it is verified
	// (Google's tokens for a service account).
	Email string
}

// UsesOIDC reports whether Receivers of type typ authenticate with a bearer ID token.
func UsesOIDC(typ string) bool {
	return typ == notificationv1.GenericOIDCReceiver || typ == notificationv1.GCRReceiver
}

// OIDCSettingsFrom reads the settings of a Receiver of type typ from its Secret's data. A
// missing key is a steps.Stalled InvalidSpec error naming the Secret and the key.
func OIDCSettingsFrom(typ, secretName string, data map[string][]byte) (OIDCSettings, error) {
	value := func(k string) string { return strings.TrimSpace(string(data[k])) }
	s := OIDCSettings{Issuer: value(IssuerKey), Audience: value(AudienceKey), JWKSURL: value(JWKSURLKey),
		Subject: value(SubjectKey), Email: value(EmailKey)}
	if typ == notificationv1.GCRReceiver && s.Issuer == "" {
		s.Issuer = GoogleIssuer
		if s.JWKSURL == "" {
			s.JWKSURL = GoogleJWKSURL
		}
	}
	missing := func(k, why string) error {
		return steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("secret '%s' has no '%s' key: type %s needs %s", secretName, k, typ, why))
	}
	switch {
	case s.Issuer == "":
		return s, missing(IssuerKey, "the issuer of the ID tokens it accepts")
	case s.Audience == "":
		return s, missing(AudienceKey, "the audience the ID tokens must be for")
	}
	for k, v := range map[string]string{IssuerKey: s.Issuer, JWKSURLKey: s.JWKSURL} {
		if v != "" && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
			return s, steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("secret '%s' key '%s' is not an http(s) URL", secretName, k))
		}
	}
	return s, nil
}

// ReadOIDCSettings reads the OIDC settings from a Receiver's Secret: steps.Stalled with
// TokenNotFound when the Secret is missing, InvalidSpec when a key is.
func ReadOIDCSettings(ctx context.Context, c client.Reader, rcv *notificationv1.Receiver) (OIDCSettings, error) {
	name := rcv.Spec.SecretRef.Name
	secret := &corev1.Secret{}
	err := c.Get(ctx, client.ObjectKey{Namespace: rcv.Namespace, Name: name}, secret)
	if apierrors.IsNotFound(err) {
		return OIDCSettings{}, steps.Stalled(notificationv1.TokenNotFoundReason, fmt.Errorf("spec.secretRef: secret '%s' not found", name))
	}
	if err != nil {
		return OIDCSettings{}, err
	}
	return OIDCSettingsFrom(rcv.Spec.Type, name, secret.Data)
}

// maxVerifiers bounds the cache of IDTokens: past it, the cache starts over.
const maxVerifiers = 256

// IDTokens verifies bearer ID tokens. It keeps one verifier, and so one cache of signing
// keys, per issuer, keys URL and audience: the keys are fetched on first use and again only
// when a token names a key not in the cache.
type IDTokens struct {
	client    *http.Client
	mu        sync.Mutex
	verifiers map[OIDCSettings]*oidc.IDTokenVerifier
}

// NewIDTokens returns an IDTokens that fetches discovery documents and keys with client,
// whose transport decides which addresses may be reached.
func NewIDTokens(client *http.Client) *IDTokens {
	return &IDTokens{client: client, verifiers: map[OIDCSettings]*oidc.IDTokenVerifier{}}
}

// signingAlgorithms are the JWS algorithms accepted; never "none" or HMAC.
var signingAlgorithms = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

// verifier returns the cached verifier of s, building it (and, without a keys URL, running
// discovery) on first use.
func (v *IDTokens) verifier(ctx context.Context, s OIDCSettings) (*oidc.IDTokenVerifier, error) {
	key := OIDCSettings{Issuer: s.Issuer, Audience: s.Audience, JWKSURL: s.JWKSURL}
	v.mu.Lock()
	if ver, ok := v.verifiers[key]; ok {
		v.mu.Unlock()
		return ver, nil
	}
	v.mu.Unlock()
	// Key sets keep this context, without its cancel, for their later fetches: it carries
	// the client.
	clientCtx := oidc.ClientContext(ctx, v.client)
	config := &oidc.Config{ClientID: s.Audience, SupportedSigningAlgs: signingAlgorithms}
	var ver *oidc.IDTokenVerifier
	if s.JWKSURL != "" {
		// Google's tokens say "accounts.google.com" or "https://accounts.google.com": Verify
		// checks the issuer itself.
		config.SkipIssuerCheck = true
		ver = oidc.NewVerifier(s.Issuer, oidc.NewRemoteKeySet(clientCtx, s.JWKSURL), config)
	} else {
		p, err := oidc.NewProvider(clientCtx, s.Issuer)
		if err != nil {
			return nil, fmt.Errorf("discovering the issuer's keys: %w", err)
		}
		ver = p.VerifierContext(clientCtx, config)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.verifiers) >= maxVerifiers {
		v.verifiers = map[OIDCSettings]*oidc.IDTokenVerifier{}
	}
	v.verifiers[key] = ver
	return ver, nil
}

// Verify checks the request's `Authorization: Bearer` ID token: signed with a key of the
// issuer, issued by s.Issuer (for Google also its short spelling), for s.Audience, within its
// validity, and with s.Subject and s.Email when set. A rejected token is a 401 *Error saying
// which check failed, never quoting the token; an issuer that cannot be reached is a 502.
func (v *IDTokens) Verify(ctx context.Context, s OIDCSettings, header http.Header) error {
	raw, ok := strings.CutPrefix(header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return unauthorized("missing Authorization: Bearer <ID token>")
	}
	ver, err := v.verifier(ctx, s)
	if err != nil {
		return &Error{Status: http.StatusBadGateway, Msg: err.Error()}
	}
	tok, err := ver.Verify(ctx, strings.TrimSpace(raw))
	if err != nil {
		return unauthorized("invalid ID token: %s", scrubToken(err.Error(), raw))
	}
	if tok.Issuer != s.Issuer && !(s.Issuer == GoogleIssuer && tok.Issuer == "accounts.google.com") {
		return unauthorized("invalid ID token: issued by %q, not %q", tok.Issuer, s.Issuer)
	}
	if s.Subject != "" && tok.Subject != s.Subject {
		return unauthorized("invalid ID token: subject %q is not the Secret's '%s'", tok.Subject, SubjectKey)
	}
	if s.Email != "" {
		var claims struct {
			Email         string `json:"email"`
			EmailVerified bool   `json:"email_verified"`
		}
		if err := tok.Claims(&claims); err != nil || claims.Email != s.Email || !claims.EmailVerified {
			return unauthorized("invalid ID token: email %q is not the Secret's '%s', or not verified", claims.Email, EmailKey)
		}
	}
	return nil
}

// scrubToken removes the token from a verification error, should a library quote it.
func scrubToken(msg, raw string) string {
	if raw != "" {
		msg = strings.ReplaceAll(msg, raw, "[token]")
	}
	return msg
}
