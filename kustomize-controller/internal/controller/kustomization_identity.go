package controller

import (
	"fmt"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/steps"
)

// resourceManager returns the apply/prune/wait engine acting as obj's identity: the
// ServiceAccount spec.serviceAccountName (or --default-service-account) in obj's namespace,
// impersonated; the controller's own identity only when neither is set.
func (r *KustomizationReconciler) resourceManager(obj *kustomizev1.Kustomization) (*ssa.ResourceManager, error) {
	c := client.Client(r.Client)
	sa := obj.Spec.ServiceAccountName
	if sa == "" {
		sa = r.DefaultServiceAccount
	}
	if sa != "" {
		if errs := validation.IsDNS1123Subdomain(sa); len(errs) > 0 {
			return nil, steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("spec.serviceAccountName %q is not a valid name", sa))
		}
		if r.Config == nil {
			return nil, fmt.Errorf("impersonating ServiceAccount '%s': the controller has no REST config", sa)
		}
		cfg := rest.CopyConfig(r.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", obj.Namespace, sa)}
		var err error
		if c, err = client.New(cfg, client.Options{Scheme: r.Scheme(), Mapper: r.RESTMapper()}); err != nil {
			return nil, fmt.Errorf("impersonating ServiceAccount '%s': %w", sa, err)
		}
	}
	poller := polling.NewStatusPoller(c, r.RESTMapper(), polling.Options{})
	return ssa.NewResourceManager(c, poller, ssa.Owner{Field: r.ControllerName, Group: OwnerGroup}), nil
}
