package build

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/resource"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/yamlguard"
)

// SubstituteAnnotation, set to "disabled" on an object, keeps postBuild substitution off it.
const SubstituteAnnotation = "kustomize.weir.dev/substitute"

// Options shape a build.
type Options struct {
	// AllowRemoteBases lets the build fetch remote kustomize resources (http(s) files and Git
	// bases over http(s)). Build fetches them itself, before kustomize runs and outside its
	// lock, bounded in time and size, and points the entries at the local copies. Off, the
	// first remote reference fails the build before anything is fetched.
	AllowRemoteBases bool
	// Client reads postBuild.substituteFrom ConfigMaps and Secrets; nil skips them.
	Client client.Client
	// Decrypter, when set, decrypts SOPS-encrypted generator files before the build and
	// SOPS-encrypted objects after it, before substitution. It writes the decrypted files into
	// the root, so a root built with a Decrypter must be the build's own.
	Decrypter Decrypter
	// Guarded says the caller has already checked root with Guard.
	Guarded bool
	// Trace, when set, records what the build read (see Trace).
	Trace *Trace
	// MaxObjects, when positive, refuses (TooManyObjectsReason) a build of more objects, and
	// stops kustomize as soon as the files it read hold twice as many: kustomize's work grows
	// with the square of the objects, so what it is given must be bounded before it runs.
	MaxObjects int
	// Timeout, when positive, bounds the build (BuildTimeoutReason). Build returns by then even
	// if kustomize does not; a unit's next build is refused until its kustomize run ends.
	Timeout time.Duration
	// Origins, when not nil, receives where each object came from (see Origins).
	Origins Origins
	// Warn, when set, receives what kustomize warned about during the build (deprecated
	// fields, vars never replaced, …), once each, after kustomize ran; see warnings.go.
	Warn func(Warning)
}

// Decrypter decrypts SOPS-encrypted content of a build.
type Decrypter interface {
	// DecryptGeneratorFiles decrypts, in place, the files secretGenerators under dir use.
	DecryptGeneratorFiles(root, dir string) error
	// DecryptObjects decrypts, in place, the objects that are SOPS documents.
	DecryptObjects(objs []*unstructured.Unstructured) error
}

// Error is a build failure with the reason the Kustomization reports.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Build builds ks's spec.path inside root (an extracted artifact, which it never modifies) and
// returns the objects.
func Build(ctx context.Context, root string, ks *kustomizev1.Kustomization, opts Options) ([]*unstructured.Unstructured, error) {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	objects, err := build(ctx, root, ks, opts)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && opts.Timeout > 0 {
		return nil, &Error{kustomizev1.BuildTimeoutReason, fmt.Errorf("the build did not finish within spec.timeout (%s)", opts.Timeout)}
	}
	return objects, err
}

func build(ctx context.Context, root string, ks *kustomizev1.Kustomization, opts Options) ([]*unstructured.Unstructured, error) {
	dir, err := securePath(root, cleanPath(ks.Spec.Path))
	if err != nil {
		return nil, &Error{kustomizev1.BuildFailedReason, err}
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, &Error{kustomizev1.BuildFailedReason, fmt.Errorf("spec.path '%s' is not a directory in the source", ks.Spec.Path)}
	}
	if !opts.Guarded {
		if err := Guard(root); err != nil {
			return nil, &Error{kustomizev1.BuildFailedReason, err}
		}
	}
	for i, p := range ks.Spec.Patches {
		if err := yamlguard.Check(fmt.Sprintf("spec.patches[%d].patch", i), []byte(p.Patch)); err != nil {
			return nil, &Error{kustomizev1.BuildFailedReason, err}
		}
	}
	spec, err := asUnstructured(ks)
	if err != nil {
		return nil, err
	}
	manifest, kfile, addedOrigins, err := generate(root, dir, spec)
	if err != nil {
		return nil, &Error{kustomizev1.BuildFailedReason, relativize(root, fmt.Errorf("generating kustomization.yaml: %w", err))}
	}
	if opts.Decrypter != nil {
		if err := opts.Decrypter.DecryptGeneratorFiles(root, dir); err != nil {
			return nil, &Error{kustomizev1.DecryptionFailedReason, relativize(root, err)}
		}
	}
	var fetch *fetcher
	if opts.AllowRemoteBases {
		if fetch, err = newFetcher(); err != nil {
			return nil, err
		}
		defer fetch.close()
	}
	fs, err := newFS(root, fetch, kfile, manifest)
	if err != nil {
		return nil, &Error{kustomizev1.BuildFailedReason, relativize(root, err)}
	}
	if err := resolveRemote(ctx, fs, root, dir, fetch); err != nil {
		return nil, &Error{kustomizev1.BuildFailedReason, relativize(root, err)}
	}
	tfs := &tracingFS{FileSystem: fs, ctx: ctx, roots: rootsOf(root), trace: opts.Trace, readCap: 2 * opts.MaxObjects, objectCap: opts.MaxObjects,
		warnings: &warnings{}}
	if opts.Trace != nil {
		opts.Trace.start(tfs.manifestSum(kfile, manifest))
		if opts.Decrypter != nil || (fetch != nil && fetch.count > 0) {
			opts.Trace.replayable = false
		}
	}
	resMap, err := runKustomize(ctx, tfs, dir, unitKey(ks))
	if opts.Warn != nil {
		for _, w := range tfs.warnings.all() {
			opts.Warn(w)
		}
	}
	var refused *Error
	if errors.As(err, &refused) {
		return nil, err
	}
	if err != nil {
		return nil, &Error{kustomizev1.BuildFailedReason, relativize(root, err)}
	}
	if opts.MaxObjects > 0 && resMap.Size() > opts.MaxObjects {
		return nil, &Error{kustomizev1.TooManyObjectsReason, fmt.Errorf(
			"the build yields %d objects, more than the %d allowed per Kustomization (kustomize-controller --max-objects-per-unit)", resMap.Size(), opts.MaxObjects)}
	}

	vars, err := variables(ctx, opts.Client, ks, spec)
	if err != nil {
		return nil, &Error{kustomizev1.PostBuildFailedReason, err}
	}
	if opts.Trace != nil {
		opts.Trace.input = inputSum(ks, vars)
	}
	var locate *originLocator
	if opts.Origins != nil {
		if locate, err = newOriginLocator(root, cleanPath(ks.Spec.Path)); err != nil {
			return nil, &Error{kustomizev1.BuildFailedReason, err}
		}
		defer locate.close()
	}
	objects := make([]*unstructured.Unstructured, 0, resMap.Size())
	for _, res := range resMap.Resources() {
		var origin string
		if locate != nil {
			origin = locate.locate(res)
		}
		if opts.Decrypter != nil {
			if err := decryptResource(opts.Decrypter, res); err != nil {
				return nil, &Error{kustomizev1.DecryptionFailedReason, err}
			}
		}
		if vars != nil && res.GetAnnotations()[SubstituteAnnotation] != kustomize.DisabledValue {
			out, err := kustomize.SubstituteVariables(ctx, nil, *vars, res, kustomize.SubstituteWithDryRun(true), kustomize.SubstituteWithStrict(true))
			if err != nil {
				return nil, &Error{kustomizev1.PostBuildFailedReason, fmt.Errorf("%s/%s: %w", res.GetKind(), res.GetName(), err)}
			}
			if out != nil {
				res = out
			}
		}
		// Through JSON, so numbers are int64 and float64 as the API machinery expects.
		b, err := res.MarshalJSON()
		if err != nil {
			return nil, &Error{kustomizev1.BuildFailedReason, err}
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(b); err != nil {
			return nil, &Error{kustomizev1.BuildFailedReason, fmt.Errorf("%s/%s: %w", res.GetKind(), res.GetName(), err)}
		}
		if addedOrigins {
			unsetAnnotation(obj, originAnnotation)
		}
		setCommonMetadata(obj, ks.Spec.CommonMetadata)
		if origin != "" {
			opts.Origins[ObjectKey(obj)] = origin
		}
		objects = append(objects, obj)
	}
	return objects, nil
}

// unitKey names ks among concurrent builds; empty when ks has no name.
func unitKey(ks *kustomizev1.Kustomization) string {
	if ks.Name == "" {
		return ""
	}
	return ks.Namespace + "/" + ks.Name
}

// cleanPath is spec.path as a path relative to the source root.
func cleanPath(p string) string { return filepath.Clean(strings.TrimPrefix(p, "./")) }

// asUnstructured is ks as the generator and the substitution read it.
func asUnstructured(ks *kustomizev1.Kustomization) (unstructured.Unstructured, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ks)
	return unstructured.Unstructured{Object: u}, err
}

// generate returns the kustomization.yaml the build of dir uses and its path: the one in dir
// (or a listing of dir's manifests when there is none) with the spec's overlays added and origin
// annotations asked for; addedOrigins says the build must remove them (the file did not ask).
func generate(root, dir string, spec unstructured.Unstructured) (manifest []byte, kfile string, addedOrigins bool, err error) {
	manifest, kfile, _, err = kustomize.NewGenerator(root, spec).GenerateManifest(dir)
	if err != nil {
		return nil, "", false, err
	}
	manifest, addedOrigins, err = withOriginAnnotations(manifest)
	return manifest, kfile, addedOrigins, err
}

// unsetAnnotation removes key from obj's annotations, and the annotations when none is left.
func unsetAnnotation(obj *unstructured.Unstructured, key string) {
	a := obj.GetAnnotations()
	if _, ok := a[key]; !ok {
		return
	}
	delete(a, key)
	if len(a) == 0 {
		a = nil
	}
	obj.SetAnnotations(a)
}

// variables returns the postBuild variables (substitute and substituteFrom, read with c) as a
// copy of spec, nil when ks substitutes nothing.
func variables(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization, spec unstructured.Unstructured) (*unstructured.Unstructured, error) {
	pb := ks.Spec.PostBuild
	if pb == nil || (len(pb.Substitute) == 0 && len(pb.SubstituteFrom) == 0) {
		return nil, nil
	}
	return loadVariables(ctx, c, spec)
}

// decryptResource decrypts res in place when it is a SOPS document (it has a top-level sops
// field), before substitution sees it.
func decryptResource(d Decrypter, res *resource.Resource) error {
	if res.Field("sops") == nil {
		return nil
	}
	b, err := res.MarshalJSON()
	if err != nil {
		return err
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("%s/%s: %w", res.GetKind(), res.GetName(), err)
	}
	if err := d.DecryptObjects([]*unstructured.Unstructured{obj}); err != nil {
		return err
	}
	if b, err = obj.MarshalJSON(); err != nil {
		return err
	}
	return res.UnmarshalJSON(b)
}

// setCommonMetadata sets spec.commonMetadata's labels and annotations on obj, overwriting.
func setCommonMetadata(obj *unstructured.Unstructured, cm *meta.CommonMetadata) {
	if cm == nil {
		return
	}
	if len(cm.Labels) > 0 {
		labels := obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		maps.Copy(labels, cm.Labels)
		obj.SetLabels(labels)
	}
	if len(cm.Annotations) > 0 {
		annotations := obj.GetAnnotations()
		if annotations == nil {
			annotations = map[string]string{}
		}
		maps.Copy(annotations, cm.Annotations)
		obj.SetAnnotations(annotations)
	}
}

// loadVariables reads substituteFrom once and returns a copy of spec whose
// postBuild.substitute holds every variable, so substitution needs no further reads.
func loadVariables(ctx context.Context, c client.Client, spec unstructured.Unstructured) (*unstructured.Unstructured, error) {
	vars := map[string]string{}
	if c != nil {
		loaded, err := kustomize.LoadVariables(ctx, c, spec)
		if err != nil {
			return nil, fmt.Errorf("spec.postBuild.substituteFrom: %w", err)
		}
		vars = loaded
	}
	inline, _, _ := unstructured.NestedStringMap(spec.Object, "spec", "postBuild", "substitute")
	for k, v := range inline {
		vars[k] = strings.ReplaceAll(v, "\n", "")
	}
	out := spec.DeepCopy()
	if err := unstructured.SetNestedStringMap(out.Object, vars, "spec", "postBuild", "substitute"); err != nil {
		return nil, err
	}
	unstructured.RemoveNestedField(out.Object, "spec", "postBuild", "substituteFrom")
	return out, nil
}

// securePath joins path to root, refusing one that leaves it.
func securePath(root, path string) (string, error) {
	if filepath.IsAbs(path) || path == ".." || strings.HasPrefix(path, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("spec.path '%s' leaves the source root", path)
	}
	return filepath.Join(root, path), nil
}
