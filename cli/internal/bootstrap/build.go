package bootstrap

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/kustomize/build"
)

// maxObjects bounds the build of the weir-system folder, as kustomize-controller's default.
const maxObjects = 5000

// Objects builds the weir-system folder of the clone (with the user's patches in its
// kustomization.yaml) as kustomize-controller builds it, with the same code, so that what
// bootstrap applies is what the Kustomization will find in place. Only the folder's regular
// files are copied out of the clone, into a temporary directory removed on return.
func (l Layout) Objects(ctx context.Context, r *Repo) ([]*unstructured.Unstructured, error) {
	tmp, err := os.MkdirTemp("", "weir-bootstrap-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	dir := path.Join(l.Path, Dir)
	files, err := r.Files(dir)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	for _, f := range files {
		b, _, err := r.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := root.MkdirAll(path.Dir(f), 0o755); err != nil {
			return nil, err
		}
		if err := root.WriteFile(f, b, 0o644); err != nil {
			return nil, err
		}
	}
	ks := &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{
		Path: "./" + dir, Timeout: &metav1.Duration{Duration: time.Minute},
	}}
	ks.Name, ks.Namespace = SyncName, l.Install.Namespace
	objs, err := build.Build(ctx, filepath.Clean(tmp), ks, build.Options{MaxObjects: maxObjects, Timeout: time.Minute})
	if err != nil {
		return nil, fmt.Errorf("building %s of %s: %w", dir, r.URL, err)
	}
	return objs, nil
}
