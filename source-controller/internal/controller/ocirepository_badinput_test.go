package controller

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/source-controller/internal/helmtest"
	"weir.dev/source-controller/internal/ocitest"
)

// TestOCIRepositoryBadInput: each bad artifact, registry or spec ends in Ready=False with a
// specific reason and a message naming the fault, and stores no artifact.
func TestOCIRepositoryBadInput(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	pushManifests(t, reg, "app", "v1", map[string]string{"app.yaml": "app"})
	big := make([]byte, testMaxLayerSize+1)
	reg.Push(t, "big", "v1", []ocitest.Layer{{MediaType: ocitest.FluxContentMediaType, Data: big}}, nil)
	reg.Push(t, "notgzip", "v1", []ocitest.Layer{{MediaType: ocitest.FluxContentMediaType, Data: []byte("plain text")}}, nil)
	reg.Push(t, "evil", "v1", []ocitest.Layer{{MediaType: ocitest.FluxContentMediaType,
		Data: helmtest.TarGz(t, helmtest.Entry{Name: "../../weir-oci-escape.txt", Body: "x"})}}, nil)
	// A proxy whose manifests lie: same length and Docker-Content-Digest, one byte changed.
	tamper := reg.NewProxy(t, func(path string, body []byte) []byte {
		if strings.Contains(path, "/manifests/") {
			return bytes.Replace(body, []byte("example.com"), []byte("example.org"), 1)
		}
		return body
	})
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	hanging := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hanging.Close)
	host := func(u string) string { return "oci://" + strings.TrimPrefix(u, "http://") }

	v1 := &sourcev1.OCIRepositoryRef{Tag: "v1"}
	cases := []struct {
		name    string
		url     string
		mutate  func(*sourcev1.OCIRepository)
		reason  string
		message string
		stalled bool
	}{
		{name: "manifest digest mismatch", url: host(tamper.URL) + "/app", reason: sourcev1.OCIPullFailedReason, message: "does not match its digest"},
		{name: "layer over the limit", url: reg.URL("big"), reason: sourcev1.OCIPullFailedReason, message: "is 1048577 bytes, over the size limit of 1048576 bytes"},
		{name: "layer not gzip", url: reg.URL("notgzip"), reason: sourcev1.OCILayerOperationFailedReason, message: "not a gzip stream"},
		{name: "layer escaping", url: reg.URL("evil"), reason: sourcev1.OCILayerOperationFailedReason, message: `path contains ".."`},
		{name: "unknown tag", url: reg.URL("app"), mutate: func(o *sourcev1.OCIRepository) { o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "nope"} },
			reason: sourcev1.ReferenceNotFoundReason, message: "resolving 'nope'"},
		{name: "no semver match", url: reg.URL("app"), mutate: func(o *sourcev1.OCIRepository) { o.Spec.Reference = &sourcev1.OCIRepositoryRef{SemVer: ">=9"} },
			reason: sourcev1.ReferenceNotFoundReason, message: "no tag of"},
		{name: "hanging registry", url: host(hanging.URL) + "/app", mutate: func(o *sourcev1.OCIRepository) { o.Spec.Timeout = &metav1.Duration{Duration: time.Second} },
			reason: sourcev1.OCIPullFailedReason, message: "timed out"},
		{name: "tag in URL", url: reg.URL("app:v1"), reason: sourcev1.URLInvalidReason, message: "must not carry a tag", stalled: true},
		{name: "credentials in URL", url: "oci://user:Oci-Url-8Pw@" + reg.Host + "/app", reason: sourcev1.URLInvalidReason, message: "must not carry credentials", stalled: true},
		{name: "keyless cosign verification", url: reg.URL("app"), mutate: func(o *sourcev1.OCIRepository) {
			o.Spec.Verify = &sourcev1.OCIRepositoryVerification{Provider: sourcev1.CosignVerificationProvider}
		}, reason: sourcev1.VerificationFailedReason, message: "keyless cosign verification is not supported in this build", stalled: true},
		{name: "notation verification", url: reg.URL("app"), mutate: func(o *sourcev1.OCIRepository) {
			o.Spec.Verify = &sourcev1.OCIRepositoryVerification{Provider: sourcev1.NotationVerificationProvider, SecretRef: &meta.LocalObjectReference{Name: "keys"}}
		}, reason: sourcev1.VerificationFailedReason, message: "spec.verify.provider 'notation' is not supported in this build", stalled: true},
		{name: "verification keys missing", url: reg.URL("app"), mutate: func(o *sourcev1.OCIRepository) {
			o.Spec.Verify = &sourcev1.OCIRepositoryVerification{SecretRef: &meta.LocalObjectReference{Name: "keys"}}
		}, reason: sourcev1.VerificationFailedReason, message: "secret 'keys' not found"},
		{name: "missing secret", url: reg.URL("app"), mutate: func(o *sourcev1.OCIRepository) { o.Spec.SecretRef = &meta.LocalObjectReference{Name: "nope"} },
			reason: meta.AuthenticationFailedReason, message: "secret 'nope' not found"},
		{name: "missing service account", url: reg.URL("app"), mutate: func(o *sourcev1.OCIRepository) { o.Spec.ServiceAccountName = "nope" },
			reason: meta.AuthenticationFailedReason, message: "serviceaccount 'nope' not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			obj := createOCIRepository(t, ns, "bad", tc.url, func(o *sourcev1.OCIRepository) {
				o.Spec.Reference = v1
				if tc.mutate != nil {
					tc.mutate(o)
				}
			})
			waitFailure(t, obj, tc.reason, tc.message, tc.stalled)
			if obj.Status.Artifact != nil {
				t.Errorf("an artifact was stored: %+v", obj.Status.Artifact)
			}
			if strings.Contains(tc.name, "verification") {
				if c := conditionOf(obj, sourcev1.SourceVerifiedCondition); c == nil || c.Status != metav1.ConditionFalse {
					t.Errorf("SourceVerified = %+v, want False", c)
				}
			}
			assertNoLeak(t, obj, "Oci-Url-8Pw")
		})
	}
	assertNoFileNamed(t, "weir-oci-escape.txt")
}
