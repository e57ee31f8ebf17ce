// Command kustomize-controller builds Kustomizations from source artifacts and applies them to the cluster with server-side apply, pruning and health checks.
package main

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/app"
)

const controllerName = "kustomize-controller"

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(sourcev1.AddToScheme(s))
	utilruntime.Must(kustomizev1.AddToScheme(s))
	return s
}

func main() {
	app.Main(app.Controller{
		Name:    controllerName,
		Scheme:  newScheme(),
		Watched: []client.Object{&kustomizev1.Kustomization{}},
	})
}
