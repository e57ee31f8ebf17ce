// Package scheme builds the runtime schemes tools and tests use to talk about every Weir kind.
// Each controller registers only the kinds it reads, in its own main package.
package scheme

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	notificationv1 "weir.dev/api/notification/v1"
	setsv1 "weir.dev/api/sets/v1"
	sourcev1 "weir.dev/api/source/v1"
)

// AddWeir registers every Weir kind in s.
func AddWeir(s *runtime.Scheme) error {
	for _, add := range []func(*runtime.Scheme) error{
		sourcev1.AddToScheme, kustomizev1.AddToScheme, helmv1.AddToScheme, notificationv1.AddToScheme,
		setsv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return err
		}
	}
	return nil
}

// New returns a scheme with the built-in kinds, apiextensions and every Weir kind.
func New() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	utilruntime.Must(AddWeir(s))
	return s
}
