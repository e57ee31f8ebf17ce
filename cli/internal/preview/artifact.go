package preview

import (
	"context"
	"fmt"
	"os"

	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/kustomize/build"
)

// BuildArtifact builds ks as the controller does from art, its source's artifact: downloaded
// from the artifact's own host only, checked against its digest, extracted with the artifact
// rules into a temporary directory it removes. Remote bases are refused, as by the
// controller's default; SOPS-encrypted objects stay encrypted (Diff skips them). The objects
// carry the controller's ownership labels.
func BuildArtifact(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization, art *meta.Artifact) ([]*unstructured.Unstructured, build.Origins, error) {
	dir, err := os.MkdirTemp("", "weir-plan-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	f := &artifact.Fetcher{AllowedHost: artifact.Host(art.URL), Retries: 2}
	if err := f.Fetch(ctx, art.URL, art.Digest, dir); err != nil {
		return nil, nil, fmt.Errorf("fetching the artifact of revision %s from %s: %w", art.Revision, artifact.Host(art.URL), err)
	}
	origins := build.Origins{}
	objects, err := build.Build(ctx, dir, ks, build.Options{Client: c, Origins: origins})
	if err != nil {
		return nil, nil, fmt.Errorf("building revision %s: %w", art.Revision, err)
	}
	ssa.NewResourceManager(nil, nil, Owner).SetOwnerLabels(objects, ks.Name, ks.Namespace)
	return objects, origins, nil
}
