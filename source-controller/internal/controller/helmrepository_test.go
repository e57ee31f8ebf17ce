package controller

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	hrepo "helm.sh/helm/v3/pkg/repo"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/gittest"
	"weir.dev/source-controller/internal/helmrepo"
	"weir.dev/source-controller/internal/helmtest"
	"weir.dev/source-controller/internal/ocitest"
)

// createHelmRepository creates a HelmRepository for url, changed by mutate.
func createHelmRepository(t *testing.T, ns, name, url string, mutate func(*sourcev1.HelmRepository)) *sourcev1.HelmRepository {
	t.Helper()
	obj := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.HelmRepositorySpec{
			URL:      url,
			Interval: &metav1.Duration{Duration: 10 * time.Minute},
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

// publish scaffolds chart name at version with helm and publishes it in repo.
func publish(t *testing.T, repo *helmtest.Repo, c helmtest.Chart) {
	t.Helper()
	repo.Publish(t, helmtest.NewChart(t, filepath.Join(t.TempDir(), c.Version), c))
}

// storedIndexVersions downloads a HelmRepository's artifact and returns the versions of chart.
func storedIndexVersions(t *testing.T, a *meta.Artifact, chart string) string {
	t.Helper()
	idx, err := helmrepo.ParseNormalized(fetchRaw(t, a))
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, cv := range idx.Entries[chart] {
		vs = append(vs, cv.Version)
	}
	return strings.Join(vs, " ")
}

// TestHelmRepositoryIndex: the artifact is the normalised index, its revision the digest; a new
// chart version makes a new revision, regenerating the same index (new `generated` time) does
// not.
func TestHelmRepositoryIndex(t *testing.T) {
	ns := env.Namespace(t)
	repo := helmtest.NewRepo(t, helmtest.RepoOptions{})
	publish(t, repo, helmtest.Chart{Name: "app", Version: "1.0.0"})
	obj := createHelmRepository(t, ns, "charts", repo.URL, nil)
	first := waitArtifact(t, obj, func(rev string) error {
		if !strings.HasPrefix(rev, "sha256:") {
			return fmt.Errorf("revision %s is not a digest", rev)
		}
		return nil
	})
	if first.Digest != first.Revision {
		t.Errorf("digest %s, revision %s: the revision is the index digest", first.Digest, first.Revision)
	}
	if got := storedIndexVersions(t, first, "app"); got != "1.0.0" {
		t.Fatalf("stored index has app versions %q", got)
	}
	if err := testenv.CheckCondition(obj, sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, meta.SucceededReason, first.Revision); err != nil {
		t.Error(err)
	}

	publish(t, repo, helmtest.Chart{Name: "app", Version: "0.9.0"})
	requestReconcileOf(t, obj)
	first = waitArtifact(t, obj, func(rev string) error {
		if rev == first.Revision {
			return fmt.Errorf("revision unchanged")
		}
		return nil
	})
	// The same charts in another order, generated at another time: the same artifact.
	repo.RewriteIndex(t, func(idx *hrepo.IndexFile) {
		idx.Generated = idx.Generated.Add(time.Hour)
		slices.Reverse(idx.Entries["app"])
	})
	requestReconcileOf(t, obj)
	if obj.Status.Artifact.Revision != first.Revision || !obj.Status.Artifact.LastUpdateTime.Equal(&first.LastUpdateTime) {
		t.Fatalf("regenerating the same index changed the artifact: %+v, was %+v", obj.Status.Artifact, first)
	}

	publish(t, repo, helmtest.Chart{Name: "app", Version: "1.1.0"})
	requestReconcileOf(t, obj)
	second := waitArtifact(t, obj, func(rev string) error {
		if rev == first.Revision {
			return fmt.Errorf("revision unchanged")
		}
		return nil
	})
	if got := storedIndexVersions(t, second, "app"); got != "1.1.0 1.0.0 0.9.0" {
		t.Fatalf("stored index has app versions %q", got)
	}
	testenv.Eventually(t, timeout, func() error {
		for _, ev := range env.Events(t, ns, "charts") {
			if ev.Reason == sourcev1.NewArtifactReason && strings.Contains(ev.Message, second.Revision) {
				return nil
			}
		}
		return fmt.Errorf("no NewArtifact event for %s", second.Revision)
	})
}

// TestHelmRepositoryAuth: basic auth from spec.secretRef, and TLS with a private CA and a
// client certificate from spec.certSecretRef.
func TestHelmRepositoryAuth(t *testing.T) {
	t.Run("basic auth", func(t *testing.T) {
		ns := env.Namespace(t)
		repo := helmtest.NewRepo(t, helmtest.RepoOptions{User: "helm", Password: "Hr-Basic-8Qw"})
		publish(t, repo, helmtest.Chart{Name: "app", Version: "1.0.0"})
		createSecret(t, ns, "creds", map[string][]byte{"username": []byte("helm"), "password": []byte("Hr-Basic-8Qw")})
		obj := createHelmRepository(t, ns, "private", repo.URL, func(o *sourcev1.HelmRepository) {
			o.Spec.SecretRef = &meta.LocalObjectReference{Name: "creds"}
		})
		a := waitArtifact(t, obj, func(string) error { return nil })
		if got := storedIndexVersions(t, a, "app"); got != "1.0.0" {
			t.Fatalf("stored index has app versions %q", got)
		}
		assertNoLeak(t, obj, "Hr-Basic-8Qw")
	})
	t.Run("CA and client certificate", func(t *testing.T) {
		ns := env.Namespace(t)
		caPEM, certPEM, keyPEM := gittest.SelfSignedTLS(t)
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		repo := helmtest.NewRepo(t, helmtest.RepoOptions{})
		publish(t, repo, helmtest.Chart{Name: "app", Version: "1.0.0"})
		srv := httptest.NewUnstartedServer(repo.Config.Handler)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
		srv.StartTLS()
		defer srv.Close()

		createSecret(t, ns, "ca-only", map[string][]byte{"ca.crt": caPEM})
		createSecret(t, ns, "mtls", map[string][]byte{"ca.crt": caPEM, "tls.crt": certPEM, "tls.key": keyPEM})
		noCert := createHelmRepository(t, ns, "no-client-cert", srv.URL, func(o *sourcev1.HelmRepository) {
			o.Spec.CertSecretRef = &meta.LocalObjectReference{Name: "ca-only"}
		})
		waitFailure(t, noCert, sourcev1.IndexationFailedReason, "index.yaml", false)
		obj := createHelmRepository(t, ns, "mtls", srv.URL, func(o *sourcev1.HelmRepository) {
			o.Spec.CertSecretRef = &meta.LocalObjectReference{Name: "mtls"}
		})
		waitArtifact(t, obj, func(string) error { return nil })
		assertNoLeak(t, obj, strings.Split(string(keyPEM), "\n")[1])
	})
}

// TestHelmRepositoryOCI: type oci keeps no artifact; it is Ready when the registry accepts the
// credentials, and fails with AuthenticationFailed when it does not.
func TestHelmRepositoryOCI(t *testing.T) {
	ns := env.Namespace(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{User: "oci", Password: "Oci-Helm-5Tz"})
	createSecret(t, ns, "good", map[string][]byte{"username": []byte("oci"), "password": []byte("Oci-Helm-5Tz")})
	createSecret(t, ns, "bad", map[string][]byte{"username": []byte("oci"), "password": []byte("Wrong-Helm-1Aa")})
	withSecret := func(name string) func(*sourcev1.HelmRepository) {
		return func(o *sourcev1.HelmRepository) {
			o.Spec.Type = sourcev1.HelmRepositoryTypeOCI
			o.Spec.Insecure = true
			o.Spec.SecretRef = &meta.LocalObjectReference{Name: name}
		}
	}
	good := createHelmRepository(t, ns, "good", reg.URL("charts"), withSecret("good"))
	testenv.Eventually(t, timeout, env.ObjectIn(good, meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, "is reachable"))
	if good.Status.Artifact != nil {
		t.Errorf("type oci must keep no artifact, got %+v", good.Status.Artifact)
	}
	bad := createHelmRepository(t, ns, "bad", reg.URL("charts"), withSecret("bad"))
	waitFailure(t, bad, meta.AuthenticationFailedReason, "authentication failed", false)
	assertNoLeak(t, good, "Oci-Helm-5Tz")
	assertNoLeak(t, bad, "Oci-Helm-5Tz", "Wrong-Helm-1Aa")
}
