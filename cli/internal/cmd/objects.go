package cmd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
)

// errNoCRDs is the error of a cluster without Weir's CRDs.
var errNoCRDs = errors.New("Weir's CRDs are not installed: run `weir install`")

// apiError turns the errors every command meets into helpful ones: a missing CRD becomes
// errNoCRDs; anything else is returned unchanged.
func apiError(err error) error {
	if apimeta.IsNoMatchError(err) {
		return errNoCRDs
	}
	return err
}

// getObject gets the object of kind k called name in namespace. When there is none it returns
// an error suggesting close names in namespace, or the namespaces that hold name.
func getObject(ctx context.Context, c client.Client, k *objects.Kind, namespace, name string) (*unstructured.Unstructured, error) {
	u := k.New()
	err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u)
	if err == nil {
		return u, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, apiError(err)
	}
	return nil, notFound(ctx, c, k, namespace, name)
}

// notFound builds the error for a missing object, with a suggestion when one can be found.
func notFound(ctx context.Context, c client.Client, k *objects.Kind, namespace, name string) error {
	base := fmt.Sprintf("%s %q not found in namespace %q", k.Kind, name, namespace)
	list := k.NewList()
	if err := c.List(ctx, list, client.InNamespace(namespace)); err == nil {
		var close []string
		for _, item := range list.Items {
			if similar(name, item.GetName()) {
				close = append(close, item.GetName())
			}
		}
		if len(close) > 0 {
			sort.Strings(close)
			return fmt.Errorf("%s; did you mean %s?", base, strings.Join(close, ", "))
		}
	}
	all := k.NewList()
	if err := c.List(ctx, all); err == nil {
		var namespaces []string
		for _, item := range all.Items {
			if item.GetName() == name {
				namespaces = append(namespaces, item.GetNamespace())
			}
		}
		if len(namespaces) > 0 {
			sort.Strings(namespaces)
			return fmt.Errorf("%s; it exists in namespace %s (use -n)", base, strings.Join(namespaces, ", "))
		}
	}
	return errors.New(base)
}

// similar reports whether a user who typed want probably meant have: one contains the other,
// or they are at most two edits apart.
func similar(want, have string) bool {
	if strings.Contains(have, want) || strings.Contains(want, have) {
		return true
	}
	return editDistance(want, have) <= 2
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
