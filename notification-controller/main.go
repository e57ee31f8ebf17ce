// Command notification-controller routes the other controllers' events to chat, webhooks and Git commit statuses, and turns incoming webhooks into reconcile requests.
package main

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/pkg/app"
)

const controllerName = "notification-controller"

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(notificationv1.AddToScheme(s))
	return s
}

func main() {
	app.Main(app.Controller{
		Name:    controllerName,
		Scheme:  newScheme(),
		Watched: []client.Object{&notificationv1.Provider{}, &notificationv1.Alert{}, &notificationv1.Receiver{}},
	})
}
