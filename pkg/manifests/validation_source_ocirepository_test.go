package manifests_test

import (
	"fmt"
	"strings"
	"testing"

	sourcev1 "weir.dev/api/source/v1"
)

const (
	minimalOCIRepositorySpec  = `{url: "oci://ghcr.io/org/manifests", interval: 5m}`
	ociTestDigest             = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ociNotationNeedsSecret    = "spec.verify.secretRef is required with provider notation"
	ociOIDCNeedsCosign        = "spec.verify.matchOIDCIdentity is only supported with provider cosign"
	ociTrustedRootNeedsCosign = "spec.verify.trustedRootSecretRef is only supported with provider cosign"
)

// TestOCIRepositoryValidation: every OpenAPI and CEL rule of OCIRepository rejects what it must,
// with a message naming the field, and lets valid specs through.
func TestOCIRepositoryValidation(t *testing.T) {
	runSourceCases(t, sourcev1.OCIRepositoryKind, minimalOCIRepositorySpec, ociRepositoryCases())
}

func ociRepositoryCases() []sourceCase {
	return []sourceCase{
		{"minimal spec", ``, ""},

		// url
		{"url is required", `{url: null}`, `spec.url: Required value`},
		{"url with registry port", `{url: "oci://localhost:5000/org/manifests"}`, ""},
		{"https url", `{url: "https://ghcr.io/org/manifests"}`, `spec.url: Invalid value: "https://ghcr.io/org/manifests"`},
		{"url without scheme", `{url: "ghcr.io/org/manifests"}`, `spec.url: Invalid value: "ghcr.io/org/manifests"`},
		{"bare scheme", `{url: "oci://"}`, `spec.url: Invalid value: "oci://"`},
		{"url too long", fmt.Sprintf(`{url: "oci://ghcr.io/%s"}`, sourceLongString(2048)), `spec.url: Too long`},

		// interval and timeout
		{"interval is required", `{interval: null}`, `spec.interval: Required value`},
		{"interval in days", `{interval: 1d}`, `spec.interval: Invalid value: "1d"`},
		{"timeout", `{timeout: 90s}`, ""},
		{"timeout without unit", `{timeout: "60"}`, `spec.timeout: Invalid value: "60"`},

		// ref
		{"ref tag", `{ref: {tag: v1.2.3}}`, ""},
		{"ref tag with underscore", `{ref: {tag: _latest-build.7}}`, ""},
		{"ref semver with filter", `{ref: {semver: ">=1.0.0", semverFilter: ".*-rc.*"}}`, ""},
		{"ref digest", fmt.Sprintf(`{ref: {digest: %q}}`, ociTestDigest), ""},
		{"ref digest, semver and tag together (digest wins)", fmt.Sprintf(`{ref: {digest: %q, semver: ">=1.0.0", tag: v1.2.3}}`, ociTestDigest), ""},
		{"ref short digest", `{ref: {digest: "sha256:abc123"}}`, `spec.ref.digest: Invalid value: "sha256:abc123"`},
		{"ref digest without algorithm", fmt.Sprintf(`{ref: {digest: %q}}`, strings.TrimPrefix(ociTestDigest, "sha256:")), `spec.ref.digest: Invalid value`},
		{"ref upper-case digest", fmt.Sprintf(`{ref: {digest: %q}}`, strings.ToUpper(ociTestDigest)), `spec.ref.digest: Invalid value`},
		{"ref semverFilter without semver", `{ref: {tag: v1.2.3, semverFilter: ".*-rc.*"}}`, "spec.ref.semverFilter needs spec.ref.semver"},
		{"ref tag starting with a dash", `{ref: {tag: "-v1"}}`, `spec.ref.tag: Invalid value: "-v1"`},
		{"ref tag with a slash", `{ref: {tag: "release/v1"}}`, `spec.ref.tag: Invalid value: "release/v1"`},
		{"ref tag of 128 characters", fmt.Sprintf(`{ref: {tag: %s}}`, sourceLongString(128)), ""},
		{"ref tag of 129 characters", fmt.Sprintf(`{ref: {tag: %s}}`, sourceLongString(129)), `spec.ref.tag: Invalid value`},
		{"ref semver too long", fmt.Sprintf(`{ref: {semver: %s}}`, sourceLongString(251)), `spec.ref.semver: Too long`},
		{"ref semverFilter too long", fmt.Sprintf(`{ref: {semver: "*", semverFilter: %s}}`, sourceLongString(251)), `spec.ref.semverFilter: Too long`},

		// layerSelector
		{"layerSelector copy", `{layerSelector: {mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", operation: copy}}`, ""},
		{"layerSelector unknown operation", `{layerSelector: {operation: unpack}}`, `spec.layerSelector.operation: Unsupported value: "unpack"`},
		{"layerSelector mediaType too long", fmt.Sprintf(`{layerSelector: {mediaType: %s}}`, sourceLongString(256)), `spec.layerSelector.mediaType: Too long`},

		// provider and credentials
		{"provider generic", `{provider: generic}`, ""},
		{"provider aws", `{provider: aws}`, cloudProviderRefused},
		{"provider azure", `{provider: azure}`, cloudProviderRefused},
		{"provider gcp", `{provider: gcp}`, cloudProviderRefused},
		{"unknown provider", `{provider: github}`, `spec.provider: Unsupported value: "github"`},
		{"credentials", `{secretRef: {name: regcred}, certSecretRef: {name: tls}, proxySecretRef: {name: proxy}, serviceAccountName: puller, insecure: true}`, ""},
		{"certSecretRef with empty name", `{certSecretRef: {name: ""}}`, `spec.certSecretRef.name: Invalid value: ""`},
		{"serviceAccountName with upper case", `{serviceAccountName: Puller}`, `spec.serviceAccountName: Invalid value: "Puller"`},
		{"serviceAccountName too long", fmt.Sprintf(`{serviceAccountName: %s}`, sourceLongString(254)), `spec.serviceAccountName: Too long`},

		// verify
		{"verify cosign with keys", `{verify: {provider: cosign, secretRef: {name: cosign-pub}}}`, ""},
		{"verify cosign keyless", `{verify: {matchOIDCIdentity: [{issuer: "^https://token.actions.githubusercontent.com$", subject: "^https://github.com/org/.*$"}]}}`, ""},
		{"verify cosign with trusted root", `{verify: {provider: cosign, trustedRootSecretRef: {name: sigstore-root}}}`, ""},
		{"verify notation", `{verify: {provider: notation, secretRef: {name: notation-trust}}}`, ""},
		{"verify unknown provider", `{verify: {provider: gpg, secretRef: {name: keys}}}`, `spec.verify.provider: Unsupported value: "gpg"`},
		{"verify notation without secretRef", `{verify: {provider: notation}}`, ociNotationNeedsSecret},
		{"verify notation with OIDC identities", `{verify: {provider: notation, secretRef: {name: notation-trust}, matchOIDCIdentity: [{issuer: ".*", subject: ".*"}]}}`, ociOIDCNeedsCosign},
		{"verify notation with trusted root", `{verify: {provider: notation, secretRef: {name: notation-trust}, trustedRootSecretRef: {name: sigstore-root}}}`, ociTrustedRootNeedsCosign},
		{"verify OIDC identity without issuer", `{verify: {matchOIDCIdentity: [{subject: ".*"}]}}`, `spec.verify.matchOIDCIdentity[0].issuer: Required value`},
		{"verify OIDC identity without subject", `{verify: {matchOIDCIdentity: [{issuer: ".*"}]}}`, `spec.verify.matchOIDCIdentity[0].subject: Required value`},
		{"verify OIDC identity with empty issuer", `{verify: {matchOIDCIdentity: [{issuer: "", subject: ".*"}]}}`, `spec.verify.matchOIDCIdentity[0].issuer: Invalid value: ""`},
		{"verify OIDC identity with empty subject", `{verify: {matchOIDCIdentity: [{issuer: ".*", subject: ""}]}}`, `spec.verify.matchOIDCIdentity[0].subject: Invalid value: ""`},
		{"verify OIDC issuer too long", fmt.Sprintf(`{verify: {matchOIDCIdentity: [{issuer: %s, subject: ".*"}]}}`, sourceLongString(1025)), `spec.verify.matchOIDCIdentity[0].issuer: Too long`},
		{"verify OIDC subject too long", fmt.Sprintf(`{verify: {matchOIDCIdentity: [{issuer: ".*", subject: %s}]}}`, sourceLongString(1025)), `spec.verify.matchOIDCIdentity[0].subject: Too long`},
		{"verify too many OIDC identities", fmt.Sprintf(`{verify: {matchOIDCIdentity: %s}}`, sourceList(33, `{issuer: ".*", subject: ".*"}`)), `spec.verify.matchOIDCIdentity: Too many`},
	}
}
