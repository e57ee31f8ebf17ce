package manifests_test

import (
	"fmt"
	"testing"

	sourcev1 "weir.dev/api/source/v1"
)

const (
	minimalHelmRepositorySpec = `{url: "https://charts.example.com"}`
	helmRepoOCIURLNeedsType   = "spec.type must be oci for an oci:// spec.url"
	helmRepoOCITypeNeedsURL   = "spec.url must start with oci:// when spec.type is oci"
	helmRepoProviderNeedsOCI  = "spec.provider other than generic needs spec.type oci"
	cloudProviderRefused      = "spec.provider aws, azure and gcp (cloud workload identity) are not supported: use generic with spec.secretRef"
)

// TestHelmRepositoryValidation: every OpenAPI and CEL rule of HelmRepository rejects what it must,
// with a message naming the field, and lets valid specs through.
func TestHelmRepositoryValidation(t *testing.T) {
	runSourceCases(t, sourcev1.HelmRepositoryKind, minimalHelmRepositorySpec, []sourceCase{
		{"minimal spec", ``, ""},

		// url and type
		{"url is required", `{url: null}`, `spec.url: Required value`},
		{"http url", `{url: "http://charts.example.com/stable"}`, ""},
		{"oci url with type oci", `{url: "oci://ghcr.io/org/charts", type: oci}`, ""},
		{"https url with type default", `{url: "https://charts.example.com", type: default}`, ""},
		{"ftp url", `{url: "ftp://charts.example.com"}`, `spec.url: Invalid value: "ftp://charts.example.com"`},
		{"url without scheme", `{url: "charts.example.com"}`, `spec.url: Invalid value: "charts.example.com"`},
		{"url too long", fmt.Sprintf(`{url: "https://charts.example.com/%s"}`, sourceLongString(2048)), `spec.url: Too long`},
		{"unknown type", `{type: git}`, `spec.type: Unsupported value: "git"`},
		{"oci url without type", `{url: "oci://ghcr.io/org/charts"}`, helmRepoOCIURLNeedsType},
		{"oci url with type default", `{url: "oci://ghcr.io/org/charts", type: default}`, helmRepoOCIURLNeedsType},
		{"type oci with https url", `{url: "https://ghcr.io/org/charts", type: oci}`, helmRepoOCITypeNeedsURL},

		// provider
		{"provider generic with type oci", `{url: "oci://ghcr.io/org/charts", type: oci, provider: generic}`, ""},
		{"provider aws with type oci", `{url: "oci://123456789000.dkr.ecr.eu-west-1.amazonaws.com/charts", type: oci, provider: aws}`, cloudProviderRefused},
		{"provider gcp with type oci", `{url: "oci://europe-docker.pkg.dev/project/charts", type: oci, provider: gcp}`, cloudProviderRefused},
		{"provider azure with type default", `{provider: azure}`, helmRepoProviderNeedsOCI},
		{"unknown provider", `{url: "oci://ghcr.io/org/charts", type: oci, provider: github}`, `spec.provider: Unsupported value: "github"`},

		// interval and timeout
		{"interval", `{interval: 10m}`, ""},
		{"interval in days", `{interval: 1d}`, `spec.interval: Invalid value: "1d"`},
		{"timeout", `{timeout: 3m}`, ""},
		{"timeout without unit", `{timeout: "60"}`, `spec.timeout: Invalid value: "60"`},

		// credentials and other options
		{"credentials and options", `{secretRef: {name: basic-auth}, certSecretRef: {name: tls}, passCredentials: true, insecure: false, suspend: true}`, ""},
		{"secretRef with empty name", `{secretRef: {name: ""}}`, `spec.secretRef.name: Invalid value: ""`},
	})
}
