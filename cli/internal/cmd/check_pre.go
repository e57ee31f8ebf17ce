package cmd

import (
	"fmt"

	utilversion "k8s.io/apimachinery/pkg/util/version"
)

// MinKubernetes is the oldest Kubernetes release Weir supports. Its CRDs use validation rules
// (CEL) with field paths and the controllers rely on server-side apply and the
// flowcontrol.apiserver.k8s.io/v1 API; 1.32 is also the oldest release its Kubernetes
// libraries (v0.37) are tested against, give or take the skew policy.
const MinKubernetes = "1.32.0"

// checkKubernetesVersion returns the cluster's version, or an error when it is older than
// MinKubernetes or cannot be read.
func checkKubernetesVersion(g *Globals) error {
	_, err := kubernetesVersion(g)
	return err
}

func kubernetesVersion(g *Globals) (string, error) {
	dc, err := g.Kube.ToDiscoveryClient()
	if err != nil {
		return "", fmt.Errorf("no cluster to talk to: %w", err)
	}
	info, err := dc.ServerVersion()
	if err != nil {
		return "", fmt.Errorf("no cluster to talk to: %w", err)
	}
	return info.GitVersion, checkMinimum(info.GitVersion)
}

// checkMinimum returns an error when gitVersion is older than MinKubernetes or unreadable.
func checkMinimum(gitVersion string) error {
	v, err := utilversion.ParseGeneric(gitVersion)
	if err != nil {
		return fmt.Errorf("cannot read the cluster's Kubernetes version %q: %w", gitVersion, err)
	}
	if v.LessThan(utilversion.MustParseGeneric(MinKubernetes)) {
		return fmt.Errorf("Kubernetes %s is older than Weir's minimum, %s: upgrade the cluster first", gitVersion, MinKubernetes)
	}
	return nil
}
