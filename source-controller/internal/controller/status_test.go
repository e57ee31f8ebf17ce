package controller

import (
	"testing"

	"github.com/fluxcd/pkg/runtime/conditions"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

func TestHelmChartReady(t *testing.T) {
	for _, tc := range []struct {
		name            string
		kind            string
		artifact        *meta.Artifact
		reason, message string
	}{
		{"no artifact", sourcev1.HelmRepositoryKind, nil, meta.SucceededReason, "no artifact"},
		{"pulled from a HelmRepository", sourcev1.HelmRepositoryKind, &meta.Artifact{Revision: "1.2.3"},
			sourcev1.ChartPullSucceededReason, "pulled 'podinfo' chart with version '1.2.3'"},
		{"packaged from a GitRepository", sourcev1.GitRepositoryKind, &meta.Artifact{Revision: "1.2.3+abc"},
			sourcev1.ChartPackageSucceededReason, "packaged 'podinfo' chart with version '1.2.3+abc'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &sourcev1.HelmChart{}
			o.Spec.SourceRef.Kind = tc.kind
			o.Status.Artifact, o.Status.ObservedChartName = tc.artifact, "podinfo"
			if reason, msg := helmChartReady(o); reason != tc.reason || msg != tc.message {
				t.Errorf("got %s %q, want %s %q", reason, msg, tc.reason, tc.message)
			}
		})
	}
}

func TestHelmRepositoryReady(t *testing.T) {
	for _, tc := range []struct {
		name, typ, url string
		artifact       *meta.Artifact
		message        string
	}{
		{"HTTP index stored", "default", "https://charts.example.com", &meta.Artifact{Revision: "sha256:abc"}, "stored artifact for revision 'sha256:abc'"},
		{"HTTP before any index", "", "https://charts.example.com", nil, "no artifact"},
		{"OCI names the registry host only", sourcev1.HelmRepositoryTypeOCI, "oci://ghcr.io/org/charts", nil,
			"registry 'ghcr.io' is reachable with the given credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &sourcev1.HelmRepository{}
			o.Spec.Type, o.Spec.URL, o.Status.Artifact = tc.typ, tc.url, tc.artifact
			if reason, msg := helmRepositoryReady(o); reason != meta.SucceededReason || msg != tc.message {
				t.Errorf("got %s %q, want %s %q", reason, msg, meta.SucceededReason, tc.message)
			}
		})
	}
}

// TestArtifactUpToDate: a GitRepository's fetch is skipped only when the artifact is the
// revision built with the current spec's settings and the same included artifacts.
func TestArtifactUpToDate(t *testing.T) {
	ignore, other := "*.md", "*.txt"
	head := sourcev1.ModeGitHEAD
	includes := []*meta.Artifact{{Digest: "sha256:1"}}
	upToDate := func() *sourcev1.GitRepository {
		o := &sourcev1.GitRepository{}
		o.Spec.Ignore, o.Status.ObservedIgnore = &ignore, &ignore
		o.Spec.SparseCheckout, o.Status.ObservedSparseCheckout = []string{"deploy"}, []string{"deploy"}
		o.Status.Artifact = &meta.Artifact{Revision: "main@sha1:abc"}
		o.Status.IncludedArtifacts = []*meta.Artifact{{Digest: "sha256:1"}}
		return o
	}
	for _, tc := range []struct {
		name     string
		mutate   func(*sourcev1.GitRepository)
		revision string
		includes []*meta.Artifact
		want     bool
	}{
		{"same revision and settings", nil, "main@sha1:abc", includes, true},
		{"no artifact yet", func(o *sourcev1.GitRepository) { o.Status.Artifact = nil }, "main@sha1:abc", includes, false},
		{"new revision", nil, "main@sha1:def", includes, false},
		{"ignore changed", func(o *sourcev1.GitRepository) { o.Spec.Ignore = &other }, "main@sha1:abc", includes, false},
		{"submodules turned on", func(o *sourcev1.GitRepository) { o.Spec.RecurseSubmodules = true }, "main@sha1:abc", includes, false},
		{"sparse checkout changed", func(o *sourcev1.GitRepository) { o.Spec.SparseCheckout = []string{"apps"} }, "main@sha1:abc", includes, false},
		{"verification asked, none recorded", func(o *sourcev1.GitRepository) {
			o.Spec.Verification = &sourcev1.GitRepositoryVerification{Mode: head}
		}, "main@sha1:abc", includes, false},
		{"verified with the same mode", func(o *sourcev1.GitRepository) {
			o.Spec.Verification = &sourcev1.GitRepositoryVerification{Mode: head}
			o.Status.SourceVerificationMode = &head
			conditions.MarkTrue(o, sourcev1.SourceVerifiedCondition, meta.SucceededReason, "verified")
		}, "main@sha1:abc", includes, true},
		{"verification dropped", func(o *sourcev1.GitRepository) { o.Status.SourceVerificationMode = &head }, "main@sha1:abc", includes, false},
		{"an include changed", nil, "main@sha1:abc", []*meta.Artifact{{Digest: "sha256:2"}}, false},
		{"an include added", nil, "main@sha1:abc", []*meta.Artifact{{Digest: "sha256:1"}, {Digest: "sha256:3"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := upToDate()
			if tc.mutate != nil {
				tc.mutate(o)
			}
			if got := artifactUpToDate(o, tc.revision, tc.includes); got != tc.want {
				t.Errorf("artifactUpToDate = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestOCIArtifactUpToDate: an OCIRepository's pull is skipped only for the same revision,
// ignore rules and layer selector, with any asked verification done.
func TestOCIArtifactUpToDate(t *testing.T) {
	sel := &sourcev1.OCILayerSelector{MediaType: "application/vnd.cncf.flux.content.v1.tar+gzip"}
	for _, tc := range []struct {
		name   string
		mutate func(*sourcev1.OCIRepository)
		want   bool
	}{
		{"same revision and settings", nil, true},
		{"no artifact yet", func(o *sourcev1.OCIRepository) { o.Status.Artifact = nil }, false},
		{"new digest", func(o *sourcev1.OCIRepository) { o.Status.Artifact.Revision = "v1@sha256:old" }, false},
		{"layer selector changed", func(o *sourcev1.OCIRepository) { o.Spec.LayerSelector = nil }, false},
		{"verification pending", func(o *sourcev1.OCIRepository) {
			o.Spec.Verify = &sourcev1.OCIRepositoryVerification{Provider: "cosign"}
		}, false},
		{"verified", func(o *sourcev1.OCIRepository) {
			o.Spec.Verify = &sourcev1.OCIRepositoryVerification{Provider: "cosign"}
			conditions.MarkTrue(o, sourcev1.SourceVerifiedCondition, meta.SucceededReason, "verified")
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &sourcev1.OCIRepository{}
			o.Spec.LayerSelector, o.Status.ObservedLayerSelector = sel, sel.DeepCopy()
			o.Status.Artifact = &meta.Artifact{Revision: "v1@sha256:new"}
			if tc.mutate != nil {
				tc.mutate(o)
			}
			if got := ociArtifactUpToDate(o, "v1@sha256:new"); got != tc.want {
				t.Errorf("ociArtifactUpToDate = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestChartUpToDate: a HelmChart's build is skipped only for the same chart name and version
// built with the same values files; with ignoreMissingValuesFiles, only without any.
func TestChartUpToDate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(*sourcev1.HelmChart)
		version string
		want    bool
	}{
		{"same chart, version and values files", nil, "1.0.0", true},
		{"new version", nil, "1.0.1", false},
		{"another chart", func(o *sourcev1.HelmChart) { o.Status.ObservedChartName = "other" }, "1.0.0", false},
		{"values files changed", func(o *sourcev1.HelmChart) { o.Spec.ValuesFiles = []string{"values.yaml", "prod.yaml"} }, "1.0.0", false},
		{"missing files ignored: one may have appeared", func(o *sourcev1.HelmChart) { o.Spec.IgnoreMissingValuesFiles = true }, "1.0.0", false},
		{"missing files ignored, none asked", func(o *sourcev1.HelmChart) {
			o.Spec.IgnoreMissingValuesFiles, o.Spec.ValuesFiles, o.Status.ObservedValuesFiles = true, nil, nil
		}, "1.0.0", true},
		{"no artifact yet", func(o *sourcev1.HelmChart) { o.Status.Artifact = nil }, "1.0.0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &sourcev1.HelmChart{}
			o.Spec.ValuesFiles, o.Status.ObservedValuesFiles = []string{"values.yaml"}, []string{"values.yaml"}
			o.Status.Artifact, o.Status.ObservedChartName = &meta.Artifact{Revision: "1.0.0"}, "podinfo"
			if tc.mutate != nil {
				tc.mutate(o)
			}
			if got := chartUpToDate(o, "podinfo", tc.version); got != tc.want {
				t.Errorf("chartUpToDate = %v, want %v", got, tc.want)
			}
		})
	}
}
