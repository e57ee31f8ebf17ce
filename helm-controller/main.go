// Command helm-controller installs, upgrades, tests, remediates and uninstalls HelmReleases from chart artifacts.
package main

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/app"
)

const controllerName = "helm-controller"

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(sourcev1.AddToScheme(s))
	utilruntime.Must(helmv1.AddToScheme(s))
	return s
}

func main() {
	app.Main(app.Controller{
		Name:    controllerName,
		Scheme:  newScheme(),
		Watched: []client.Object{&helmv1.HelmRelease{}},
	})
}
