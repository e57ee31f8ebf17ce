package controller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/runtime/conditions"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"oras.land/oras-go/v2/registry/remote/auth"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/oci"
	"weir.dev/source-controller/internal/sourceignore"
	"weir.dev/source-controller/internal/transport"
)

// ociScope is what the OCIRepository steps share. Each field names the step that fills it.
type ociScope struct {
	obj *sourcev1.OCIRepository

	host, path string // validateSpec

	client *oci.Client // reconcileAuth

	desc     ocispec.Descriptor // reconcileRemote: the manifest
	revision string             // reconcileRemote

	manifest *ocispec.Manifest  // reconcilePull
	layer    ocispec.Descriptor // reconcilePull: the selected layer
	tmp      string             // reconcilePull: holds layer.blob, and tree/ when extracted; removed by reconcileArtifact
}

// validateSpec checks what the schema cannot: the URL, the provider, and a spec.verify this
// build cannot honour (see checkVerifySpec). Failures stall: only a spec change fixes them.
func (r *OCIRepositoryReconciler) validateSpec(_ context.Context, sc *ociScope) error {
	spec := sc.obj.Spec
	host, path, err := oci.ParseURL(spec.URL)
	if err != nil {
		return steps.Stalled(sourcev1.URLInvalidReason, fmt.Errorf("spec.url: %w", err))
	}
	sc.host, sc.path = host, path
	if err := checkProvider(spec.Provider); err != nil {
		return err
	}
	if err := checkVerifySpec(spec.Verify); err != nil {
		conditions.MarkFalse(sc.obj, sourcev1.SourceVerifiedCondition, sourcev1.VerificationFailedReason, "%s", err)
		return steps.Stalled(sourcev1.VerificationFailedReason, err)
	}
	if spec.Verify == nil {
		conditions.Delete(sc.obj, sourcev1.SourceVerifiedCondition)
	}
	return nil
}

// reconcileAuth builds the registry client: credentials from spec.secretRef or the
// imagePullSecrets of spec.serviceAccountName, TLS from spec.certSecretRef, a proxy from
// spec.proxySecretRef, plain HTTP with spec.insecure. A missing or malformed Secret sets
// FetchFailed and is retried.
func (r *OCIRepositoryReconciler) reconcileAuth(ctx context.Context, sc *ociScope) error {
	obj := sc.obj
	fail := func(err error) error { return fetchFailed(obj, meta.AuthenticationFailedReason, err) }
	cred, err := r.credential(ctx, sc)
	if err != nil {
		return fail(err)
	}
	tlsCfg, err := tlsFromSecret(ctx, r.Client, obj.Namespace, obj.Spec.CertSecretRef)
	if err != nil {
		return fail(err)
	}
	proxy, err := proxyFromSecret(ctx, r.Client, obj.Namespace, obj.Spec.ProxySecretRef)
	if err != nil {
		return fail(err)
	}
	sc.client, err = oci.NewClient(sc.host, sc.path, oci.Options{
		HTTP:       transport.NewClient(transport.Options{TLS: tlsCfg, Proxy: proxy}),
		PlainHTTP:  obj.Spec.Insecure,
		Credential: cred,
	})
	if err != nil {
		return steps.Stalled(sourcev1.URLInvalidReason, fmt.Errorf("spec.url: %w", err))
	}
	return nil
}

// credential returns the registry credential for sc.host: from spec.secretRef, which must hold
// one, or else the first of the ServiceAccount's imagePullSecrets that does; none is anonymous.
func (r *OCIRepositoryReconciler) credential(ctx context.Context, sc *ociScope) (auth.Credential, error) {
	obj := sc.obj
	if ref := obj.Spec.SecretRef; ref != nil {
		data, err := secretData(ctx, r.Client, obj.Namespace, ref.Name)
		if err != nil {
			return auth.EmptyCredential, err
		}
		cred, found, err := registryCredential(ref.Name, sc.host, data)
		if err != nil {
			return auth.EmptyCredential, err
		}
		if !found {
			return auth.EmptyCredential, fmt.Errorf("secret '%s' has no credentials for '%s'", ref.Name, sc.host)
		}
		return cred, nil
	}
	if name := obj.Spec.ServiceAccountName; name != "" {
		var sa corev1.ServiceAccount
		if err := r.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: name}, &sa); err != nil {
			if apierrors.IsNotFound(err) {
				return auth.EmptyCredential, fmt.Errorf("serviceaccount '%s' not found", name)
			}
			return auth.EmptyCredential, fmt.Errorf("reading serviceaccount '%s': %w", name, err)
		}
		for _, ps := range sa.ImagePullSecrets {
			data, err := secretData(ctx, r.Client, obj.Namespace, ps.Name)
			if err != nil {
				return auth.EmptyCredential, fmt.Errorf("serviceaccount '%s': %w", name, err)
			}
			if cfg, ok := data[oci.DockerConfigKey]; ok {
				cred, found, err := oci.CredentialFromDockerConfig(cfg, sc.host)
				if err != nil {
					return auth.EmptyCredential, fmt.Errorf("serviceaccount '%s': secret '%s': %s %w", name, ps.Name, oci.DockerConfigKey, err)
				}
				if found {
					return cred, nil
				}
			}
		}
	}
	return auth.EmptyCredential, nil
}

// reconcileRemote resolves spec.ref (digest over semver over tag, `latest` by default) to a
// manifest digest, within spec.timeout. When the current artifact was built from the same
// revision with the same ignore rules and layer selector, and is in storage intact, the run stops
// here: nothing is pulled.
func (r *OCIRepositoryReconciler) reconcileRemote(ctx context.Context, sc *ociScope) error {
	ctx, cancel := context.WithTimeout(ctx, durationOr(sc.obj.Spec.Timeout, defaultTimeout))
	defer cancel()
	var ref oci.Ref
	if s := sc.obj.Spec.Reference; s != nil {
		ref = oci.Ref{Digest: s.Digest, SemVer: s.SemVer, SemverFilter: s.SemverFilter, Tag: s.Tag}
	}
	tag, desc, err := sc.client.Resolve(ctx, ref)
	if err != nil {
		return fetchFailed(sc.obj, ociFailureReason(err), err)
	}
	sc.desc, sc.revision = desc, ociRevision(tag, desc)
	if ociArtifactUpToDate(sc.obj, sc.revision) && storedArtifactIntact(r.Storage, r.EventRecorder, sc.obj, *sc.obj.Status.Artifact) {
		conditions.Delete(sc.obj, sourcev1.FetchFailedCondition)
		return steps.ErrStop
	}
	return nil
}

// reconcileVerification checks, when spec.verify is set, that the resolved manifest has a
// cosign signature by one of the trusted public keys, before anything is pulled. It sets
// SourceVerified; an unverified revision never becomes the artifact.
func (r *OCIRepositoryReconciler) reconcileVerification(ctx context.Context, sc *ociScope) error {
	v := sc.obj.Spec.Verify
	if v == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, durationOr(sc.obj.Spec.Timeout, defaultTimeout))
	defer cancel()
	shared := sourceReconciler{Client: r.Client}
	return shared.verifyCosign(ctx, sc.obj, sc.obj.Namespace, v, sc.client, sc.desc, sc.revision)
}

// reconcilePull fetches the manifest and the selected layer, with digests verified and sizes
// bounded, within spec.timeout, and extracts the layer when the operation is extract. It sets
// FetchFailed on failure.
func (r *OCIRepositoryReconciler) reconcilePull(ctx context.Context, sc *ociScope) (err error) {
	ctx, cancel := context.WithTimeout(ctx, durationOr(sc.obj.Spec.Timeout, defaultTimeout))
	defer cancel()
	if sc.tmp, err = os.MkdirTemp("", "ocirepository-"); err != nil {
		return steps.Failed(sourcev1.StorageOperationFailedReason, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(sc.tmp)
		}
	}()
	if sc.manifest, err = sc.client.Manifest(ctx, sc.desc, 0); err != nil {
		return fetchFailed(sc.obj, ociFailureReason(err), err)
	}
	if sc.layer, err = oci.SelectLayer(sc.manifest, sc.obj.GetLayerMediaType()); err != nil {
		return fetchFailed(sc.obj, sourcev1.OCILayerOperationFailedReason, fmt.Errorf("%s: %w", sc.revision, err))
	}
	blob := filepath.Join(sc.tmp, "layer.blob")
	f, err := os.Create(blob)
	if err != nil {
		return steps.Failed(sourcev1.StorageOperationFailedReason, err)
	}
	err = sc.client.CopyBlob(ctx, sc.layer, r.MaxLayerSize, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fetchFailed(sc.obj, ociFailureReason(err), err)
	}
	if sc.obj.GetLayerOperation() == sourcev1.OCILayerExtract {
		tree := filepath.Join(sc.tmp, "tree")
		if err := os.Mkdir(tree, 0o755); err != nil {
			return steps.Failed(sourcev1.StorageOperationFailedReason, err)
		}
		f, err := os.Open(blob)
		if err != nil {
			return steps.Failed(sourcev1.StorageOperationFailedReason, err)
		}
		err = artifact.Extract(f, tree, artifact.Limits{})
		f.Close()
		if err != nil {
			return fetchFailed(sc.obj, sourcev1.OCILayerOperationFailedReason, fmt.Errorf("layer %s: %w", sc.layer.Digest, err))
		}
	}
	conditions.Delete(sc.obj, sourcev1.FetchFailedCondition)
	return nil
}

// reconcileArtifact archives the extracted layer with the ignore rules (or stores the layer as
// it is, for the copy operation), records the artifact and what it was built from, collects
// old artifacts and announces a new revision. It sets ArtifactInStorage, or
// StorageOperationFailed.
func (r *OCIRepositoryReconciler) reconcileArtifact(ctx context.Context, sc *ociScope) error {
	defer os.RemoveAll(sc.tmp)
	obj := sc.obj
	a := r.Storage.NewArtifact(sourcev1.OCIRepositoryKind, obj.Namespace, obj.Name, sc.revision, sc.desc.Digest.Encoded()+".tar.gz")
	unlock := r.Storage.Lock(a)
	defer unlock()
	if obj.GetLayerOperation() == sourcev1.OCILayerCopy {
		f, err := os.Open(filepath.Join(sc.tmp, "layer.blob"))
		if err != nil {
			return storageFailed(obj, err)
		}
		err = r.Storage.WriteFile(&a, f)
		f.Close()
		if err != nil {
			return storageFailed(obj, fmt.Errorf("storing layer %s: %w", sc.layer.Digest, err))
		}
	} else {
		tree := filepath.Join(sc.tmp, "tree")
		matcher, err := sourceignore.New(tree, obj.Spec.Ignore)
		if err != nil {
			return storageFailed(obj, fmt.Errorf("reading ignore rules: %w", err))
		}
		if err := r.Storage.Archive(&a, tree, artifact.ArchiveOptions{Filter: matcher.Include}); err != nil {
			return storageFailed(obj, fmt.Errorf("archiving revision %s: %w", sc.revision, err))
		}
	}
	a.Metadata = ociMetadata(sc.manifest.Annotations)
	recordArtifact(ctx, r.Storage, r.EventRecorder, obj, a, artifactRecord{
		SetStatus: func(a *meta.Artifact) {
			obj.Status.Artifact = a
			obj.Status.URL = a.URL
			obj.Status.ObservedIgnore = obj.Spec.Ignore
			obj.Status.ObservedLayerSelector = obj.Spec.LayerSelector.DeepCopy()
		},
		Message: fmt.Sprintf("stored artifact for revision '%s'", a.Revision),
	})
	return nil
}

// ociFailureReason maps the oci package's errors to condition reasons.
func ociFailureReason(err error) string {
	switch {
	case errors.Is(err, oci.ErrAuthentication):
		return meta.AuthenticationFailedReason
	case errors.Is(err, oci.ErrNotFound) && strings.Contains(err.Error(), "resolving"), errors.Is(err, oci.ErrNotFound) && strings.Contains(err.Error(), "SemVer"):
		return sourcev1.ReferenceNotFoundReason
	default:
		return sourcev1.OCIPullFailedReason
	}
}
