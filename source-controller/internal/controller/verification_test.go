package controller

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/helmtest"
	"weir.dev/source-controller/internal/ocitest"
)

// TestOCIRepositoryCosignVerification: an artifact signed with a trusted cosign key becomes
// the artifact with SourceVerified; one signed with another key, or unsigned, never does,
// and the last verified artifact stays.
func TestOCIRepositoryCosignVerification(t *testing.T) {
	ns := env.Namespace(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{User: "u", Password: "Verify-Reg-3Ka"})
	trusted, untrusted := ocitest.NewCosignKey(t), ocitest.NewCosignKey(t)
	createSecret(t, ns, "keys", map[string][]byte{"team.pub": trusted.PublicPEM})
	createSecret(t, ns, "creds", map[string][]byte{"username": []byte("u"), "password": []byte("Verify-Reg-3Ka")})
	signed := pushManifests(t, reg, "app", "v1", map[string]string{"app.yaml": "signed"})
	reg.CosignSign(t, "app", signed, trusted)
	obj := createOCIRepository(t, ns, "app", reg.URL("app"), func(o *sourcev1.OCIRepository) {
		o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
		o.Spec.SecretRef = &meta.LocalObjectReference{Name: "creds"}
		o.Spec.Verify = &sourcev1.OCIRepositoryVerification{Provider: sourcev1.CosignVerificationProvider, SecretRef: &meta.LocalObjectReference{Name: "keys"}}
	})
	waitArtifact(t, obj, revisionIs("v1@"+signed))
	if err := testenv.CheckCondition(obj, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, "", "with key 'team.pub'"); err != nil {
		t.Error(err)
	}

	for name, sign := range map[string]*ocitest.CosignKey{"signed by another key": &untrusted, "unsigned": nil} {
		d := pushManifests(t, reg, "app", "v1", map[string]string{"app.yaml": name})
		if sign != nil {
			reg.CosignSign(t, "app", d, *sign)
		}
		requestReconcileOf(t, obj)
		waitFailure(t, obj, sourcev1.VerificationFailedReason, "no valid cosign signature for "+d, false)
		if err := testenv.CheckCondition(obj, sourcev1.SourceVerifiedCondition, metav1.ConditionFalse, sourcev1.VerificationFailedReason, ""); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if obj.Status.Artifact.Revision != "v1@"+signed {
			t.Fatalf("%s: the artifact became %s", name, obj.Status.Artifact.Revision)
		}
	}
	assertNoLeak(t, obj, "Verify-Reg-3Ka")
}

// TestHelmChartCosignVerification: a chart pulled from a HelmRepository of type oci is
// verified before it is pulled.
func TestHelmChartCosignVerification(t *testing.T) {
	ns := env.Namespace(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	key := ocitest.NewCosignKey(t)
	createSecret(t, ns, "keys", map[string][]byte{"cosign.pub": key.PublicPEM})
	var digests []string
	for _, v := range []string{"1.0.0", "1.1.0"} {
		dir := helmtest.NewChart(t, t.TempDir(), helmtest.Chart{Name: "app", Version: v})
		data := readFile(t, helmtest.Package(t, dir, t.TempDir()))
		digests = append(digests, reg.PushChart(t, "charts", "app", v, data).String())
	}
	reg.CosignSign(t, "charts/app", digests[0], key)
	createHelmRepository(t, ns, "oci", reg.URL("charts"), func(o *sourcev1.HelmRepository) {
		o.Spec.Type, o.Spec.Insecure = sourcev1.HelmRepositoryTypeOCI, true
	})
	verify := &sourcev1.OCIRepositoryVerification{SecretRef: &meta.LocalObjectReference{Name: "keys"}}
	good := createHelmChart(t, ns, "signed", sourcev1.HelmRepositoryKind, "oci", "app", func(o *sourcev1.HelmChart) {
		o.Spec.Version, o.Spec.Verify = "1.0.x", verify
	})
	waitArtifact(t, good, revisionIs("1.0.0"))
	if err := testenv.CheckCondition(good, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, "", "'1.0.0' with key 'cosign.pub'"); err != nil {
		t.Error(err)
	}
	bad := createHelmChart(t, ns, "unsigned", sourcev1.HelmRepositoryKind, "oci", "app", func(o *sourcev1.HelmChart) {
		o.Spec.Version, o.Spec.Verify = "1.1.x", verify
	})
	waitFailure(t, bad, sourcev1.VerificationFailedReason, fmt.Sprintf("no valid cosign signature for %s", digests[1]), false)
	if bad.Status.Artifact != nil {
		t.Errorf("an unverified chart became the artifact: %+v", bad.Status.Artifact)
	}
}
