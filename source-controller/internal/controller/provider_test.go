package controller

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
)

// TestCloudProviderRefusedAtAdmission: the API server refuses spec.provider aws, azure and gcp
// on OCIRepository and HelmRepository, saying why, and accepts generic and no provider.
func TestCloudProviderRefusedAtAdmission(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	objects := func(name, provider string) []client.Object {
		return []client.Object{
			&sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: sourcev1.OCIRepositorySpec{URL: "oci://127.0.0.1:5000/app", Provider: provider}},
			&sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: sourcev1.HelmRepositorySpec{URL: "oci://127.0.0.1:5000/charts", Type: sourcev1.HelmRepositoryTypeOCI, Provider: provider}},
		}
	}
	for _, p := range []string{sourcev1.AmazonOCIProvider, sourcev1.AzureOCIProvider, sourcev1.GoogleOCIProvider} {
		for _, o := range objects("cloud-"+p, p) {
			err := env.Client.Create(ctx, o)
			if err == nil || !strings.Contains(err.Error(), "spec.provider aws, azure and gcp (cloud workload identity) are not supported: use generic with spec.secretRef") {
				t.Errorf("%T with provider %s: got %v, want the admission refusal", o, p, err)
			}
		}
	}
	for _, p := range []string{"", sourcev1.GenericOCIProvider} {
		for _, o := range objects("generic"+p, p) {
			if err := env.Client.Create(ctx, o); err != nil {
				t.Errorf("%T with provider %q: %v", o, p, err)
			}
		}
	}
}

// TestCloudProviderRefusedAtRuntime: an object stored before the schema refused a cloud
// provider stalls with ProviderNotSupported, in the same words for OCIRepository and
// HelmRepository (the admission refusal makes such an object impossible to create here, so
// this calls the validate steps directly).
func TestCloudProviderRefusedAtRuntime(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{sourcev1.AmazonOCIProvider, sourcev1.AzureOCIProvider, sourcev1.GoogleOCIProvider, "", sourcev1.GenericOCIProvider} {
		oci := &sourcev1.OCIRepository{Spec: sourcev1.OCIRepositorySpec{URL: "oci://127.0.0.1:5000/app", Provider: p}}
		helm := &sourcev1.HelmRepository{Spec: sourcev1.HelmRepositorySpec{URL: "oci://127.0.0.1:5000/charts", Type: sourcev1.HelmRepositoryTypeOCI, Provider: p}}
		errs := []error{
			(&OCIRepositoryReconciler{}).validateSpec(ctx, &ociScope{obj: oci}),
			(&HelmRepositoryReconciler{}).validateSpec(ctx, &helmRepositoryScope{obj: helm}),
		}
		want := "spec.provider '" + p + "' is not supported: cloud workload identity (aws, azure, gcp) is not implemented; use 'generic' with spec.secretRef"
		for i, err := range errs {
			kind := []string{"OCIRepository", "HelmRepository"}[i]
			if p == "" || p == sourcev1.GenericOCIProvider {
				if err != nil {
					t.Errorf("%s provider %q: %v", kind, p, err)
				}
				continue
			}
			var stalled *steps.StalledError
			if !errors.As(err, &stalled) || stalled.Reason != sourcev1.ProviderNotSupportedReason || err.Error() != want {
				t.Errorf("%s provider %s: got %#v, want stalled %s %q", kind, p, err, sourcev1.ProviderNotSupportedReason, want)
			}
		}
	}
}
