package manifests_test

import (
	"fmt"
	"strings"
	"testing"

	sourcev1 "weir.dev/api/source/v1"
)

const (
	minimalGitRepositorySpec = `{url: "https://example.com/org/repo.git", interval: 5m}`
	gitRefExclusiveMessage   = "at most one of spec.ref.tag, spec.ref.semver, spec.ref.name and spec.ref.commit may be set"
	gitSparseCheckoutMessage = "spec.sparseCheckout paths must be relative and stay inside the repository"
	gitFromPathMessage       = "fromPath must be relative and stay inside the included artifact"
	gitToPathMessage         = "toPath must be relative and stay inside the artifact"
	gitTestCommit            = "0123456789abcdef0123456789abcdef01234567"
)

// TestGitRepositoryValidation: every OpenAPI and CEL rule of GitRepository rejects what it must,
// with a message naming the field, and lets valid specs through.
func TestGitRepositoryValidation(t *testing.T) {
	runSourceCases(t, sourcev1.GitRepositoryKind, minimalGitRepositorySpec, []sourceCase{
		{"minimal spec", ``, ""},

		// url
		{"url is required", `{url: null}`, `spec.url: Required value`},
		{"ssh url", `{url: "ssh://git@example.com/org/repo.git"}`, ""},
		{"http url", `{url: "http://git.example.com/org/repo.git"}`, ""},
		{"git:// url", `{url: "git://example.com/org/repo.git"}`, `spec.url: Invalid value: "git://example.com/org/repo.git"`},
		{"scp-like url", `{url: "git@example.com:org/repo.git"}`, `spec.url: Invalid value: "git@example.com:org/repo.git"`},
		{"url too long", fmt.Sprintf(`{url: "https://example.com/%s"}`, sourceLongString(2048)), `spec.url: Too long`},

		// interval and timeout
		{"interval is required", `{interval: null}`, `spec.interval: Required value`},
		{"compound interval", `{interval: 1h30m}`, ""},
		{"interval in days", `{interval: 1d}`, `spec.interval: Invalid value: "1d"`},
		{"interval without unit", `{interval: "300"}`, `spec.interval: Invalid value: "300"`},
		{"timeout", `{timeout: 2m30s}`, ""},
		{"timeout without unit", `{timeout: "60"}`, `spec.timeout: Invalid value: "60"`},

		// ref
		{"ref branch", `{ref: {branch: main}}`, ""},
		{"ref branch and commit", fmt.Sprintf(`{ref: {branch: main, commit: %q}}`, gitTestCommit), ""},
		{"ref tag", `{ref: {tag: v1.2.3}}`, ""},
		{"ref semver", `{ref: {semver: ">=1.0.0 <2.0.0"}}`, ""},
		{"ref name", `{ref: {name: refs/pull/1/head}}`, ""},
		{"ref sha256 commit", fmt.Sprintf(`{ref: {commit: %q}}`, strings.Repeat("ab", 32)), ""},
		{"ref tag and semver", `{ref: {tag: v1.2.3, semver: ">=1.0.0"}}`, gitRefExclusiveMessage},
		{"ref name and commit", fmt.Sprintf(`{ref: {name: refs/heads/main, commit: %q}}`, gitTestCommit), gitRefExclusiveMessage},
		{"ref branch and tag", `{ref: {branch: main, tag: v1.2.3}}`, "spec.ref.branch can only be combined with spec.ref.commit"},
		{"ref branch and semver", `{ref: {branch: main, semver: ">=1.0.0"}}`, "spec.ref.branch can only be combined with spec.ref.commit"},
		{"ref branch and name", `{ref: {branch: main, name: refs/heads/main}}`, "spec.ref.branch can only be combined with spec.ref.commit"},
		{"ref name outside refs/", `{ref: {name: heads/main}}`, `spec.ref.name: Invalid value: "heads/main"`},
		{"ref short commit", `{ref: {commit: abc1234}}`, `spec.ref.commit: Invalid value: "abc1234"`},
		{"ref upper-case commit", fmt.Sprintf(`{ref: {commit: %q}}`, strings.ToUpper(gitTestCommit)), `spec.ref.commit: Invalid value`},
		{"ref branch too long", fmt.Sprintf(`{ref: {branch: %s}}`, sourceLongString(251)), `spec.ref.branch: Too long`},
		{"ref tag too long", fmt.Sprintf(`{ref: {tag: %s}}`, sourceLongString(251)), `spec.ref.tag: Too long`},
		{"ref semver too long", fmt.Sprintf(`{ref: {semver: %s}}`, sourceLongString(251)), `spec.ref.semver: Too long`},
		{"ref name too long", fmt.Sprintf(`{ref: {name: refs/%s}}`, sourceLongString(250)), `spec.ref.name: Too long`},

		// verify
		{"verify", `{verify: {mode: TagAndHEAD, secretRef: {name: pgp-keys}}, ref: {tag: v1.2.3}}`, ""},
		{"verify unknown mode", `{verify: {mode: Commit, secretRef: {name: pgp-keys}}}`, `spec.verify.mode: Unsupported value: "Commit"`},
		{"verify without secretRef", `{verify: {mode: HEAD}}`, `spec.verify.secretRef: Required value`},

		// Secret references (the shared meta.LocalObjectReference rules)
		{"secretRef", `{secretRef: {name: git-auth}, proxySecretRef: {name: proxy}}`, ""},
		{"secretRef without name", `{secretRef: {}}`, `spec.secretRef.name: Required value`},
		{"secretRef with empty name", `{secretRef: {name: ""}}`, `spec.secretRef.name: Invalid value: ""`},
		{"proxySecretRef name too long", fmt.Sprintf(`{proxySecretRef: {name: %s}}`, sourceLongString(254)), `spec.proxySecretRef.name: Too long`},

		// include
		{"include", `{include: [{repository: {name: shared}, fromPath: deploy, toPath: vendor/shared}]}`, ""},
		{"include without repository", `{include: [{fromPath: deploy}]}`, `spec.include[0].repository: Required value`},
		{"include itself", fmt.Sprintf(`{include: [{repository: {name: %s}}]}`, sourceObjectName), "spec.include must not include the GitRepository itself"},
		{"include fromPath escaping", `{include: [{repository: {name: shared}, fromPath: "deploy/../../etc"}]}`, gitFromPathMessage},
		{"include absolute fromPath", `{include: [{repository: {name: shared}, fromPath: /etc}]}`, gitFromPathMessage},
		{"include toPath escaping", `{include: [{repository: {name: shared}, toPath: ".."}]}`, gitToPathMessage},
		{"include absolute toPath", `{include: [{repository: {name: shared}, toPath: /vendor}]}`, gitToPathMessage},
		{"include fromPath too long", fmt.Sprintf(`{include: [{repository: {name: shared}, fromPath: %s}]}`, sourceLongString(1025)), `spec.include[0].fromPath: Too long`},
		{"include toPath too long", fmt.Sprintf(`{include: [{repository: {name: shared}, toPath: %s}]}`, sourceLongString(1025)), `spec.include[0].toPath: Too long`},
		{"too many includes", fmt.Sprintf(`{include: %s}`, sourceList(33, `{repository: {name: shared}}`)), `spec.include: Too many`},

		// sparseCheckout
		{"sparseCheckout", `{sparseCheckout: [deploy, ./apps/base]}`, ""},
		{"sparseCheckout escaping", `{sparseCheckout: [deploy, "apps/../../.."]}`, gitSparseCheckoutMessage},
		{"sparseCheckout absolute", `{sparseCheckout: [/etc]}`, gitSparseCheckoutMessage},
		{"sparseCheckout path too long", fmt.Sprintf(`{sparseCheckout: [%s]}`, sourceLongString(1025)), `spec.sparseCheckout[0]: Too long`},
		{"too many sparseCheckout paths", fmt.Sprintf(`{sparseCheckout: %s}`, sourceList(257, "deploy")), `spec.sparseCheckout: Too many`},
	})
}
