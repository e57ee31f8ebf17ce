package preview

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/kustomize/build"
)

// Owner is the identity kustomize-controller applies with: its field manager and the group of
// its ownership labels (kustomize.weir.dev/name and /namespace).
var Owner = ssa.Owner{Field: "kustomize-controller", Group: "kustomize.weir.dev"}

// Build runs the controller's build of ks on a copy of dir, which stands for the directory of
// spec.path in the source; dir itself is never written. When dir is inside a Git working tree,
// the copy is of the whole tree, as in the controller's artifact, so overlays may refer to
// bases outside dir (`../base`); otherwise it is of dir alone. c reads postBuild.substituteFrom; nil
// skips it, as a build without a cluster must. allowRemoteBases lets the build fetch remote
// kustomize resources (the controller's --allow-remote-bases); off, as the controller's default,
// a remote reference fails the build before anything is fetched. The objects carry the ownership
// labels the controller sets, and Secret values in clear. The origins say which file and line
// of the source root each object came from (paths relative to the root, as the controller's
// messages give them).
func Build(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization, dir string, allowRemoteBases bool) ([]*unstructured.Unstructured, build.Origins, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, nil, err
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("--path %s is not a directory", dir)
	}
	src, path, err := sourceRoot(dir)
	if err != nil {
		return nil, nil, err
	}
	root, err := os.MkdirTemp("", "weir-build-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(root)
	if err := copyTree(src, root); err != nil {
		return nil, nil, fmt.Errorf("copying %s: %w", src, err)
	}
	local := ks.DeepCopy()
	local.Spec.Path = path
	origins := build.Origins{}
	objects, err := build.Build(ctx, root, local, build.Options{AllowRemoteBases: allowRemoteBases, Client: c, Origins: origins})
	if err != nil {
		return nil, nil, err
	}
	ssa.NewResourceManager(nil, nil, Owner).SetOwnerLabels(objects, ks.Name, ks.Namespace)
	return objects, origins, nil
}

// WriteYAML writes objects as a multi-document YAML stream, Secrets' values masked, each
// document headed by a comment naming the file and line it came from, when origins knows it.
func WriteYAML(w io.Writer, objects []*unstructured.Unstructured, origins build.Origins) error {
	for i, obj := range objects {
		obj = obj.DeepCopy()
		redact(obj, nil)
		b, err := yaml.Marshal(obj.Object)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if o := origins.Of(obj); o != "" {
			if _, err := fmt.Fprintf(w, "# Source: %s\n", o); err != nil {
				return err
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// sourceRoot returns the directory standing for the source artifact's root: the Git working
// tree holding dir or, outside one, dir itself; and dir's path relative to it.
func sourceRoot(dir string) (root, path string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			rel, err := filepath.Rel(d, abs)
			return d, filepath.ToSlash(rel), err
		}
		if filepath.Dir(d) == d {
			return abs, ".", nil
		}
	}
}

// copyTree copies the regular files and directories under src into dst. Symbolic links are
// copied as links, so the build's confinement to the root judges them as it would in an artifact.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if d.Name() == ".git" && rel != "." {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		}
		return nil
	})
}
