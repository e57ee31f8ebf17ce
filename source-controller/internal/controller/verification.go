package controller

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/fluxcd/pkg/runtime/conditions"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/oci"
	"weir.dev/source-controller/internal/verification"
)

// checkVerifySpec returns the stalled error for a spec.verify this build cannot honour: any
// provider but cosign, and keyless cosign (no public keys in spec.verify.secretRef).
func checkVerifySpec(v *sourcev1.OCIRepositoryVerification) error {
	if v == nil {
		return nil
	}
	switch {
	case v.Provider != "" && v.Provider != sourcev1.CosignVerificationProvider:
		return fmt.Errorf("spec.verify.provider '%s' is not supported in this build: use cosign with public keys", v.Provider)
	case v.SecretRef == nil || len(v.MatchOIDCIdentity) > 0 || v.TrustedRootSecretRef != nil:
		return errors.New("spec.verify: keyless cosign verification is not supported in this build: put cosign public keys (*.pub) in the secret spec.verify.secretRef names")
	}
	return nil
}

// verifyCosign checks the cosign signature of the manifest desc in the repository c reaches,
// with the public keys of spec.verify.secretRef, and sets SourceVerified. A bad spec stalls; a
// missing or invalid signature fails with VerificationFailed and is retried.
func (r sourceReconciler) verifyCosign(ctx context.Context, obj conditions.Setter, namespace string, v *sourcev1.OCIRepositoryVerification,
	c *oci.Client, desc ocispec.Descriptor, revision string) error {
	fail := func(err error) error {
		conditions.MarkFalse(obj, sourcev1.SourceVerifiedCondition, sourcev1.VerificationFailedReason, "%s", err)
		return steps.Failed(sourcev1.VerificationFailedReason, err)
	}
	if err := checkVerifySpec(v); err != nil {
		conditions.MarkFalse(obj, sourcev1.SourceVerifiedCondition, sourcev1.VerificationFailedReason, "%s", err)
		return steps.Stalled(sourcev1.VerificationFailedReason, err)
	}
	data, err := secretData(ctx, r.Client, namespace, v.SecretRef.Name)
	if err != nil {
		return fail(err)
	}
	keys, err := verification.PublicKeys(data)
	if err != nil {
		return fail(fmt.Errorf("secret '%s': %w", v.SecretRef.Name, err))
	}
	o := c.Options()
	reg := verification.Registry{PlainHTTP: o.PlainHTTP, Username: o.Credential.Username, Password: o.Credential.Password}
	if o.HTTP != nil {
		reg.Transport = o.HTTP.Transport
	}
	if reg.Transport == nil {
		reg.Transport = http.DefaultTransport
	}
	key, err := verification.Verify(ctx, c.Host+"/"+c.Path, desc.Digest.String(), keys, reg)
	if err != nil {
		return fail(err)
	}
	conditions.MarkTrue(obj, sourcev1.SourceVerifiedCondition, meta.SucceededReason, "verified the cosign signature of revision '%s' with key '%s'", revision, key)
	return nil
}
