package main

import (
	"context"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"weir.dev/kustomize-controller/internal/controller"
	"weir.dev/pkg/app"
	"weir.dev/pkg/artifact"
)

// setupSets registers the ResourceSet reconciler beside the Kustomizations': it shares their
// artifact cache, identities, and the ownership check of ks.
func (o *options) setupSets(mgr ctrl.Manager, opts *app.Options, log logr.Logger, ks *controller.KustomizationReconciler) error {
	recorder, err := opts.EventRecorder(mgr, controllerName)
	if err != nil {
		return err
	}
	return (&controller.ResourceSetReconciler{
		Client:               mgr.GetClient(),
		EventRecorder:        recorder,
		ControllerName:       controllerName,
		Artifacts:            ks.Artifacts,
		Fetcher:              &artifact.Fetcher{AllowedHost: o.ArtifactHost, Retries: 3},
		Identities:           ks.Identities,
		Owners:               ks,
		NoCrossNamespaceRefs: o.NoCrossNamespaceRefs,
		DependencyRequeue:    10 * time.Second,
		MaxObjects:           o.maxObjects,
		Intervals:            opts.Intervals(log, recorder),
		Backoff:              o.Backoff(),
	}).SetupWithManager(context.Background(), mgr, opts.Concurrent)
}
