package controller

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/fluxcd/pkg/runtime/conditions"
	corev1 "k8s.io/api/core/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/helmrepo"
	"weir.dev/source-controller/internal/oci"
)

// helmRepositoryScope is what the HelmRepository steps share. Each field names the step that
// fills it.
type helmRepositoryScope struct {
	obj *sourcev1.HelmRepository

	client *helmrepo.Client // reconcileAuth

	index   []byte   // reconcileIndex: the normalised index
	digest  string   // reconcileIndex: its digest, the revision
	charts  int      // reconcileIndex: the number of charts in it
	dropped []string // reconcileIndex: the chart versions left out, and why
}

// validateSpec checks what the schema cannot: the URL's scheme fits the type, and the provider
// (checkProvider) for objects stored before the schema refused it. Failures stall:
// only a spec change fixes them.
func (r *HelmRepositoryReconciler) validateSpec(_ context.Context, sc *helmRepositoryScope) error {
	isOCI := sc.obj.Spec.Type == sourcev1.HelmRepositoryTypeOCI
	if isOCI != strings.HasPrefix(sc.obj.Spec.URL, sourcev1.OCIRepositoryPrefix) {
		return steps.Stalled(sourcev1.URLInvalidReason, fmt.Errorf("spec.url does not fit spec.type '%s'", sc.obj.Spec.Type))
	}
	return checkProvider(sc.obj.Spec.Provider)
}

// reconcileAuth builds the index client from spec.url, spec.secretRef (basic auth),
// spec.certSecretRef (TLS) and spec.passCredentials. A bad URL stalls; a missing or malformed
// Secret sets FetchFailed and is retried.
func (r *HelmRepositoryReconciler) reconcileAuth(ctx context.Context, sc *helmRepositoryScope) error {
	c, err := helmIndexClient(ctx, r.Client, sc.obj)
	if err != nil {
		conditions.MarkTrue(sc.obj, sourcev1.FetchFailedCondition, reasonOf(err, meta.AuthenticationFailedReason), "%s", err)
		return err
	}
	sc.client = c
	return nil
}

// reconcileIndex downloads index.yaml within spec.timeout and the size limit, parses it
// strictly and normalises it. When the normal form's digest is the current artifact's, and the
// artifact is in storage with the bytes its digest records, the run stops here. It sets
// FetchFailed on failure.
func (r *HelmRepositoryReconciler) reconcileIndex(ctx context.Context, sc *helmRepositoryScope) error {
	ctx, cancel := context.WithTimeout(ctx, durationOr(sc.obj.Spec.Timeout, defaultTimeout))
	defer cancel()
	maxSize := r.MaxIndexSize
	if maxSize <= 0 {
		maxSize = helmrepo.DefaultMaxIndexSize
	}
	data, err := sc.client.FetchIndex(ctx, maxSize)
	if err != nil {
		reason := sourcev1.IndexationFailedReason
		if errors.Is(err, helmrepo.ErrAuthentication) {
			reason = meta.AuthenticationFailedReason
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("fetching index.yaml from %s: timed out after %s", helmrepo.Redact(sc.client.IndexURL()), durationOr(sc.obj.Spec.Timeout, defaultTimeout))
		}
		return fetchFailed(sc.obj, reason, err)
	}
	idx, dropped, err := helmrepo.ParseIndex(data)
	if err != nil {
		return fetchFailed(sc.obj, sourcev1.IndexationFailedReason, err)
	}
	if sc.index, err = helmrepo.Normalize(idx); err != nil {
		return fetchFailed(sc.obj, sourcev1.IndexationFailedReason, fmt.Errorf("normalising index.yaml: %w", err))
	}
	sum := sha256.Sum256(sc.index)
	sc.digest = "sha256:" + hex.EncodeToString(sum[:])
	sc.charts, sc.dropped = len(idx.Entries), dropped
	conditions.Delete(sc.obj, sourcev1.FetchFailedCondition)
	if a := sc.obj.Status.Artifact; a != nil && a.Revision == sc.digest && a.Digest == sc.digest && storedArtifactIntact(r.Storage, r.EventRecorder, sc.obj, *a) {
		return steps.ErrStop
	}
	return nil
}

// reconcileArtifact stores the normalised index, records it in status, collects old
// artifacts and announces the new revision. It sets ArtifactInStorage, or
// StorageOperationFailed.
func (r *HelmRepositoryReconciler) reconcileArtifact(ctx context.Context, sc *helmRepositoryScope) error {
	obj := sc.obj
	a := r.Storage.NewArtifact(sourcev1.HelmRepositoryKind, obj.Namespace, obj.Name, sc.digest, indexArtifactFile(sc.digest))
	unlock := r.Storage.Lock(a)
	defer unlock()
	if err := r.Storage.WriteFile(&a, bytes.NewReader(sc.index)); err != nil {
		return storageFailed(obj, fmt.Errorf("storing the index: %w", err))
	}
	if len(sc.dropped) > 0 {
		shown := sc.dropped[:min(len(sc.dropped), 5)]
		more := ""
		if len(sc.dropped) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(sc.dropped)-len(shown))
		}
		r.EventRecorder.AnnotatedEventf(obj, nil, map[string]string{meta.RevisionEventKey: a.Revision}, corev1.EventTypeWarning,
			"EntriesDropped", steps.ActionReconcile, "invalid chart versions left out of the index: %s%s", strings.Join(shown, "; "), more)
	}
	recordArtifact(ctx, r.Storage, r.EventRecorder, obj, a, artifactRecord{
		SetStatus: func(a *meta.Artifact) {
			obj.Status.Artifact = a
			obj.Status.URL = a.URL
		},
		Message: fmt.Sprintf("stored index with %d charts, revision '%s'", sc.charts, a.Revision),
	})
	return nil
}

// reconcileRegistry checks, for type oci, that the registry answers and accepts the
// credentials of spec.secretRef, within spec.timeout. It keeps no artifact. It sets
// FetchFailed on failure.
func (r *HelmRepositoryReconciler) reconcileRegistry(ctx context.Context, sc *helmRepositoryScope) error {
	obj := sc.obj
	c, err := helmOCIClient(ctx, r.Client, obj, "")
	if err != nil {
		conditions.MarkTrue(obj, sourcev1.FetchFailedCondition, reasonOf(err, sourcev1.OCIPullFailedReason), "%s", err)
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, durationOr(obj.Spec.Timeout, defaultTimeout))
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		reason := sourcev1.OCIPullFailedReason
		if errors.Is(err, oci.ErrAuthentication) {
			reason = meta.AuthenticationFailedReason
		}
		return fetchFailed(obj, reason, err)
	}
	conditions.Delete(obj, sourcev1.FetchFailedCondition)
	if obj.Status.Artifact != nil {
		if err := r.Storage.RemoveAll(sourcev1.HelmRepositoryKind, obj.Namespace, obj.Name); err != nil {
			return storageFailed(obj, fmt.Errorf("removing the index of the former type: %w", err))
		}
	}
	obj.Status.Artifact = nil
	obj.Status.URL = ""
	conditions.Delete(obj, sourcev1.ArtifactInStorageCondition)
	return nil
}

// fetchFailed sets FetchFailed and classifies err as transient.
func fetchFailed(obj conditions.Setter, reason string, err error) error {
	conditions.MarkTrue(obj, sourcev1.FetchFailedCondition, reason, "%s", err)
	return steps.Failed(reason, err)
}
