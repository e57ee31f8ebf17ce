package postrender

import (
	"bytes"
	"fmt"

	"helm.sh/helm/v3/pkg/postrender"

	"weir.dev/pkg/kustomize/count"
)

// TooManyObjectsError is a rendered manifest holding more objects than allowed.
type TooManyObjectsError struct {
	// Count is how many objects were counted, Max how many are allowed.
	Count, Max int
}

func (e *TooManyObjectsError) Error() string {
	return fmt.Sprintf("the rendered manifest holds %d objects, more than the %d allowed per HelmRelease (helm-controller --max-objects-per-unit)", e.Count, e.Max)
}

// Limit is a post-renderer that refuses, with a *TooManyObjectsError, manifests of more than Max
// objects, counted before and after Next (nil for none) runs. Helm post-renders before it
// creates or changes anything, and hooks are not part of the manifest it post-renders.
type Limit struct {
	Max  int
	Next postrender.PostRenderer
}

// Run counts the manifests and passes them through Next.
func (l Limit) Run(manifests *bytes.Buffer) (*bytes.Buffer, error) {
	if err := l.check(manifests); err != nil {
		return nil, err
	}
	if l.Next == nil {
		return manifests, nil
	}
	out, err := l.Next.Run(manifests)
	if err != nil {
		return nil, err
	}
	return out, l.check(out)
}

func (l Limit) check(manifests *bytes.Buffer) error {
	if n := count.Objects(manifests.Bytes(), 0); n > l.Max {
		return &TooManyObjectsError{Count: n, Max: l.Max}
	}
	return nil
}
