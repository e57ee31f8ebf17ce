package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/engine"
	fluxkustomize "github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/runtime/cel"
	"github.com/fluxcd/pkg/runtime/statusreaders"
	"github.com/fluxcd/pkg/ssa"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/steps"
)

// resourceManager returns the apply/prune/wait engine acting as obj's identity: the cluster of
// spec.kubeConfig (or this one), as the ServiceAccount spec.serviceAccountName (or
// --default-service-account) of obj's namespace, or as the controller itself when neither is
// set. Its health checks assess the kinds of spec.healthCheckExprs with their CEL expressions.
// The returned observingClient is the manager's, for drift detection.
func (r *KustomizationReconciler) resourceManager(ctx context.Context, obj *kustomizev1.Kustomization) (*ssa.ResourceManager, *observingClient, error) {
	cluster, err := r.Identities.For(ctx, identity.Target{
		Namespace:          obj.Namespace,
		ServiceAccountName: obj.Spec.ServiceAccountName,
		KubeConfig:         obj.Spec.KubeConfig,
	})
	if err != nil {
		return nil, nil, err
	}
	readers := []engine.StatusReader{statusreaders.NewCustomJobStatusReader(cluster.Mapper)}
	if exprs := obj.Spec.HealthCheckExprs; len(exprs) > 0 {
		reader, err := celStatusReader(exprs)
		if err != nil {
			return nil, nil, err
		}
		readers = append([]engine.StatusReader{reader(cluster.Mapper)}, readers...)
	}
	poller := polling.NewStatusPoller(cluster.Client, cluster.Mapper, polling.Options{CustomStatusReaders: readers})
	observed := &observingClient{Client: cluster.Client, poller: poller, identity: identityOf(cluster)}
	manager := ssa.NewResourceManager(observed, poller, ssa.Owner{Field: r.ControllerName, Group: OwnerGroup})
	manager.SetConcurrency(applyConcurrency)
	return manager, observed, nil
}

// applyConcurrency is how many objects of one Kustomization are read and dry-run at once
// (the applies that follow go one by one).
const applyConcurrency = 8

// celStatusReader compiles spec.healthCheckExprs; an expression that does not compile stalls
// the Kustomization, naming it.
func celStatusReader(exprs []kustomizev1.CustomHealthCheck) (func(apimeta.RESTMapper) engine.StatusReader, error) {
	checks := make([]fluxkustomize.CustomHealthCheck, 0, len(exprs))
	for i, e := range exprs {
		check := fluxkustomize.CustomHealthCheck{
			APIVersion: e.APIVersion,
			Kind:       e.Kind,
			HealthCheckExpressions: fluxkustomize.HealthCheckExpressions{
				Current: e.Current, InProgress: e.InProgress, Failed: e.Failed,
			},
		}
		// Compiled alone first, so the error names the entry by its place in the spec.
		if _, err := cel.NewStatusEvaluator(&check.HealthCheckExpressions); err != nil {
			return nil, steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("spec.healthCheckExprs[%d] (%s %s): %w", i, e.APIVersion, e.Kind, err))
		}
		checks = append(checks, check)
	}
	reader, err := cel.NewStatusReader(checks)
	if err != nil {
		return nil, steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("spec.healthCheckExprs: %w", err))
	}
	return reader, nil
}
