package controller

import (
	"fmt"

	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
)

// checkProvider refuses a spec.provider of OCIRepository or HelmRepository other than
// generic: aws, azure and gcp mean logging in with the controller's cloud workload identity,
// which this build cannot do. The CRDs refuse them at admission; this catches objects stored
// before that. It stalls with ProviderNotSupported, in the same words for both kinds.
func checkProvider(provider string) error {
	if provider == "" || provider == sourcev1.GenericOCIProvider {
		return nil
	}
	return steps.Stalled(sourcev1.ProviderNotSupportedReason, fmt.Errorf(
		"spec.provider '%s' is not supported: cloud workload identity (aws, azure, gcp) is not implemented; use 'generic' with spec.secretRef", provider))
}
