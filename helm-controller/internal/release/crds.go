package release

import (
	"bytes"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
)

// ApplyCRDs creates the CRDs of the chart's crds/ directory that do not exist and, with
// replace, replaces those that do, then waits until the changed ones are established and
// forgets the cached API discovery, so the release that follows can use their kinds. CRDs are
// never deleted. Helm itself only creates missing CRDs, and only on install.
func (r *Runner) ApplyCRDs(ch *chart.Chart, replace bool, timeout time.Duration) error {
	kc := r.cfg.KubeClient
	var changed kube.ResourceList
	for _, crd := range ch.CRDObjects() {
		res, err := kc.Build(bytes.NewReader(crd.File.Data), false)
		if err != nil {
			return fmt.Errorf("reading CRD file %s: %w", crd.Filename, err)
		}
		for _, info := range res {
			one := kube.ResourceList{info}
			_, err := kc.Create(one)
			switch {
			case err == nil:
				changed = append(changed, info)
			case !apierrors.IsAlreadyExists(err):
				return fmt.Errorf("creating CRD %s: %w", info.Name, err)
			case replace:
				if _, err := kc.Update(one, one, true); err != nil {
					return fmt.Errorf("replacing CRD %s: %w", info.Name, err)
				}
				changed = append(changed, info)
			}
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := kc.Wait(changed, timeout); err != nil {
		return fmt.Errorf("waiting for the chart's CRDs to be established: %w", err)
	}
	if dc, err := r.cfg.RESTClientGetter.ToDiscoveryClient(); err == nil && dc != nil {
		dc.Invalidate()
	}
	if mapper, err := r.cfg.RESTClientGetter.ToRESTMapper(); err == nil {
		if resettable, ok := mapper.(apimeta.ResettableRESTMapper); ok {
			resettable.Reset()
		}
	}
	return nil
}
