package controller

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/ocitest"
)

// createOCIRepository creates an OCIRepository for url (plain HTTP), changed by mutate.
func createOCIRepository(t *testing.T, ns, name, url string, mutate func(*sourcev1.OCIRepository)) *sourcev1.OCIRepository {
	t.Helper()
	obj := &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.OCIRepositorySpec{
			URL:      url,
			Insecure: true,
			Interval: metav1.Duration{Duration: 10 * time.Minute},
		},
	}
	if mutate != nil {
		mutate(obj)
	}
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// pushManifests pushes one flux-style content layer with files, tagged tag.
func pushManifests(t *testing.T, reg *ocitest.Registry, repo, tag string, files map[string]string) string {
	t.Helper()
	return reg.Push(t, repo, tag, []ocitest.Layer{{MediaType: ocitest.FluxContentMediaType, Data: ocitest.TarGz(t, files)}},
		map[string]string{"org.opencontainers.image.source": "https://example.com/app", "org.opencontainers.image.revision": tag}).String()
}

// TestOCIRepositoryReferences: a tag (latest by default), a SemVer range with a filter, and a
// digest, with digest winning over semver over tag; a tag moved to a new digest gives a new
// revision.
func TestOCIRepositoryReferences(t *testing.T) {
	ns := env.Namespace(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	latest := pushManifests(t, reg, "app", "latest", map[string]string{"app.yaml": "latest"})
	v100 := pushManifests(t, reg, "app", "1.0.0", map[string]string{"app.yaml": "1.0.0"})
	v120 := pushManifests(t, reg, "app", "1.2.0", map[string]string{"app.yaml": "1.2.0"})
	pushManifests(t, reg, "app", "1.3.0-rc.1", map[string]string{"app.yaml": "rc"})
	pushManifests(t, reg, "app", "2.0.0", map[string]string{"app.yaml": "2.0.0"})
	pushManifests(t, reg, "app", "1.9.0-hotfix", map[string]string{"app.yaml": "hotfix"})
	cases := []struct {
		name    string
		ref     *sourcev1.OCIRepositoryRef
		rev     string
		content string
	}{
		{"default latest", nil, "latest@" + latest, "latest"},
		{"tag", &sourcev1.OCIRepositoryRef{Tag: "1.0.0"}, "1.0.0@" + v100, "1.0.0"},
		{"semver", &sourcev1.OCIRepositoryRef{SemVer: "1.x"}, "1.2.0@" + v120, "1.2.0"},
		{"semver wins over tag", &sourcev1.OCIRepositoryRef{SemVer: "<1.1", Tag: "2.0.0"}, "1.0.0@" + v100, "1.0.0"},
		{"semver filter", &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0-0", SemverFilter: ".*-hotfix$"}, "", "hotfix"},
		{"digest wins", &sourcev1.OCIRepositoryRef{Digest: v100, SemVer: "1.x", Tag: "2.0.0"}, v100, "1.0.0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := createOCIRepository(t, ns, strings.ReplaceAll(tc.name, " ", "-"), reg.URL("app"), func(o *sourcev1.OCIRepository) { o.Spec.Reference = tc.ref })
			a := waitArtifact(t, obj, func(rev string) error {
				if tc.rev != "" && rev != tc.rev {
					return fmt.Errorf("revision %s, want %s", rev, tc.rev)
				}
				return nil
			})
			if got := fetchFiles(t, a)["app.yaml"]; got != tc.content {
				t.Fatalf("app.yaml is %q, want %q", got, tc.content)
			}
			if a.Metadata["org.opencontainers.image.source"] != "https://example.com/app" {
				t.Errorf("metadata %v lacks the manifest's annotations", a.Metadata)
			}
		})
	}

	t.Run("tag moved", func(t *testing.T) {
		obj := createOCIRepository(t, ns, "moving", reg.URL("moving"), func(o *sourcev1.OCIRepository) {
			o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "stable"}
		})
		d1 := pushManifests(t, reg, "moving", "stable", map[string]string{"app.yaml": "one"})
		requestReconcileOf(t, obj)
		waitArtifact(t, obj, revisionIs("stable@"+d1))
		d2 := pushManifests(t, reg, "moving", "stable", map[string]string{"app.yaml": "two"})
		requestReconcileOf(t, obj)
		a := waitArtifact(t, obj, revisionIs("stable@"+d2))
		if got := fetchFiles(t, a)["app.yaml"]; got != "two" {
			t.Fatalf("app.yaml is %q after the tag moved", got)
		}
	})
}

// TestOCIRepositoryUnchangedDigestIsNotPulled: once the artifact is stored, a reconcile that
// resolves the same digest fetches neither the manifest nor a blob.
func TestOCIRepositoryUnchangedDigestIsNotPulled(t *testing.T) {
	ns := env.Namespace(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	d := pushManifests(t, reg, "app", "v1", map[string]string{"app.yaml": "v1"})
	var pulls atomic.Int64
	proxy := reg.NewProxy(t, func(path string, body []byte) []byte {
		if strings.Contains(path, "/blobs/") || strings.Contains(path, "/manifests/sha256:") {
			pulls.Add(1)
		}
		return body
	})
	obj := createOCIRepository(t, ns, "app", "oci://"+strings.TrimPrefix(proxy.URL, "http://")+"/app", func(o *sourcev1.OCIRepository) {
		o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
	})
	waitArtifact(t, obj, revisionIs("v1@"+d))
	before := pulls.Load()
	if before == 0 {
		t.Fatal("the proxy saw no pull: the test cannot tell")
	}
	requestReconcileOf(t, obj)
	requestReconcileOf(t, obj)
	if after := pulls.Load(); after != before {
		t.Fatalf("an unchanged digest was pulled again: %d fetches, then %d", before, after)
	}
}

// TestOCIRepositoryLayerSelection: the layer of a media type, extracted or copied as it is; the
// ignore rules apply to the extracted files.
func TestOCIRepositoryLayerSelection(t *testing.T) {
	ns := env.Namespace(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	manifests := ocitest.TarGz(t, map[string]string{"deploy/app.yaml": "app", "deploy/notes.md": "notes"})
	chart := ocitest.TarGz(t, map[string]string{"chart/Chart.yaml": "name: chart"})
	d := reg.Push(t, "multi", "v1", []ocitest.Layer{
		{MediaType: "application/vnd.example.chart.v1.tar+gzip", Data: chart},
		{MediaType: ocitest.FluxContentMediaType, Data: manifests},
	}, nil)

	first := createOCIRepository(t, ns, "first", reg.URL("multi"), func(o *sourcev1.OCIRepository) {
		o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
	})
	if got := fetchFiles(t, waitArtifact(t, first, revisionIs("v1@"+d.String()))); got["chart/Chart.yaml"] != "name: chart" || len(got) != 1 {
		t.Fatalf("the first layer, extracted: got %v", got)
	}
	byType := createOCIRepository(t, ns, "by-type", reg.URL("multi"), func(o *sourcev1.OCIRepository) {
		o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
		o.Spec.LayerSelector = &sourcev1.OCILayerSelector{MediaType: ocitest.FluxContentMediaType}
		ignore := "*.md\n"
		o.Spec.Ignore = &ignore
	})
	if got := fetchFiles(t, waitArtifact(t, byType, revisionIs("v1@"+d.String()))); got["deploy/app.yaml"] != "app" || len(got) != 1 {
		t.Fatalf("the flux layer, extracted, without *.md: got %v", got)
	}
	copied := createOCIRepository(t, ns, "copied", reg.URL("multi"), func(o *sourcev1.OCIRepository) {
		o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
		o.Spec.LayerSelector = &sourcev1.OCILayerSelector{MediaType: ocitest.FluxContentMediaType, Operation: sourcev1.OCILayerCopy}
	})
	if got := fetchRaw(t, waitArtifact(t, copied, revisionIs("v1@"+d.String()))); string(got) != string(manifests) {
		t.Fatal("the copied layer is not the layer's bytes")
	}
	missing := createOCIRepository(t, ns, "missing", reg.URL("multi"), func(o *sourcev1.OCIRepository) {
		o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
		o.Spec.LayerSelector = &sourcev1.OCILayerSelector{MediaType: "application/vnd.nope"}
	})
	waitFailure(t, missing, sourcev1.OCILayerOperationFailedReason, "no layer of media type 'application/vnd.nope'", false)
}

// dockerConfig returns a .dockerconfigjson for host.
func dockerConfig(host, user, pass string) []byte {
	b, _ := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)),
	}}})
	return b
}

// TestOCIRepositoryAuth: credentials from a dockerconfigjson Secret and from a ServiceAccount's
// imagePullSecrets; none, or wrong ones, fail with AuthenticationFailed and never show.
func TestOCIRepositoryAuth(t *testing.T) {
	ns := env.Namespace(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{User: "puller", Password: "Oci-Pull-4Rt"})
	d := pushManifests(t, reg, "private", "v1", map[string]string{"app.yaml": "private"})
	for name, pass := range map[string]string{"good": "Oci-Pull-4Rt", "wrong": "Oci-Wrong-9Hn"} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: dockerConfig(reg.Host, "puller", pass)}}
		if err := env.Client.Create(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "puller"},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "good"}}}
	if err := env.Client.Create(context.Background(), sa); err != nil {
		t.Fatal(err)
	}
	ref := &sourcev1.OCIRepositoryRef{Tag: "v1"}
	secret := createOCIRepository(t, ns, "secret", reg.URL("private"), func(o *sourcev1.OCIRepository) {
		o.Spec.Reference, o.Spec.SecretRef = ref, &meta.LocalObjectReference{Name: "good"}
	})
	viaSA := createOCIRepository(t, ns, "sa", reg.URL("private"), func(o *sourcev1.OCIRepository) {
		o.Spec.Reference, o.Spec.ServiceAccountName = ref, "puller"
	})
	for _, obj := range []*sourcev1.OCIRepository{secret, viaSA} {
		if got := fetchFiles(t, waitArtifact(t, obj, revisionIs("v1@"+d)))["app.yaml"]; got != "private" {
			t.Fatalf("%s: app.yaml is %q", obj.Name, got)
		}
	}
	wrong := createOCIRepository(t, ns, "wrong", reg.URL("private"), func(o *sourcev1.OCIRepository) {
		o.Spec.Reference, o.Spec.SecretRef = ref, &meta.LocalObjectReference{Name: "wrong"}
	})
	anonymous := createOCIRepository(t, ns, "anonymous", reg.URL("private"), func(o *sourcev1.OCIRepository) { o.Spec.Reference = ref })
	waitFailure(t, wrong, meta.AuthenticationFailedReason, "authentication failed (HTTP 401)", false)
	waitFailure(t, anonymous, meta.AuthenticationFailedReason, "none are configured", false)
	for _, obj := range []*sourcev1.OCIRepository{secret, viaSA, wrong, anonymous} {
		assertNoLeak(t, obj, "Oci-Pull-4Rt", "Oci-Wrong-9Hn", base64.StdEncoding.EncodeToString([]byte("puller:Oci-Pull-4Rt")))
	}
	if err := testenv.CheckCondition(secret, sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, "", "v1@"); err != nil {
		t.Error(err)
	}
}

// TestOCIRepositoryTLS: an HTTPS registry that requires a client certificate is pulled from with
// spec.certSecretRef's CA and key pair; without the client certificate the pull fails.
func TestOCIRepositoryTLS(t *testing.T) {
	ns := env.Namespace(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{TLS: true, ClientAuth: true})
	d := pushManifests(t, reg, "app", "v1", map[string]string{"app.yaml": "tls"})
	createSecret(t, ns, "mtls", map[string][]byte{"ca.crt": reg.CA, "tls.crt": reg.Cert, "tls.key": reg.Key})
	createSecret(t, ns, "ca-only", map[string][]byte{"ca.crt": reg.CA})
	withCert := func(name string) func(*sourcev1.OCIRepository) {
		return func(o *sourcev1.OCIRepository) {
			o.Spec.Insecure = false
			o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
			o.Spec.CertSecretRef = &meta.LocalObjectReference{Name: name}
		}
	}
	obj := createOCIRepository(t, ns, "mtls", reg.URL("app"), withCert("mtls"))
	if got := fetchFiles(t, waitArtifact(t, obj, revisionIs("v1@"+d)))["app.yaml"]; got != "tls" {
		t.Fatalf("app.yaml is %q", got)
	}
	noCert := createOCIRepository(t, ns, "ca-only", reg.URL("app"), withCert("ca-only"))
	waitFailure(t, noCert, sourcev1.OCIPullFailedReason, "resolving 'v1'", false)
	assertNoLeak(t, obj, strings.Split(string(reg.Key), "\n")[1])
}
