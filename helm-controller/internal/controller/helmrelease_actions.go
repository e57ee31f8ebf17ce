package controller

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/helm-controller/internal/postrender"
	"weir.dev/helm-controller/internal/release"
)

// durationOr returns d, or def when d is unset.
func durationOr(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return d.Duration
}

// installOptions maps spec.install; replace reuses the name of a release whose newest revision
// is uninstalled (kept history) or failed. Helm skips the chart's CRDs with crds Skip and
// CreateReplace: the latter are applied before the install (see applyCRDs), as Helm only
// creates CRDs.
func installOptions(sc *hrScope, replace bool) release.InstallOptions {
	obj := sc.obj
	in := obj.Spec.Install
	if in == nil {
		in = &helmv1.Install{}
	}
	return release.InstallOptions{
		Chart:                    sc.chart,
		Values:                   sc.values,
		PostRenderer:             postrender.New(obj.Spec.PostRenderers, obj.Spec.CommonMetadata),
		Labels:                   ownerLabels(obj),
		Timeout:                  durationOr(in.Timeout, obj.GetTimeout()),
		Wait:                     !in.DisableWait,
		WaitForJobs:              !in.DisableWaitForJobs,
		DisableHooks:             in.DisableHooks,
		DisableOpenAPIValidation: in.DisableOpenAPIValidation,
		SkipSchemaValidation:     in.DisableSchemaValidation,
		TakeOwnership:            !in.DisableTakeOwnership,
		Replace:                  in.Replace || replace,
		SkipCRDs:                 in.SkipCRDs || in.CRDs == helmv1.CRDsSkip || in.CRDs == helmv1.CRDsCreateReplace,
		CreateNamespace:          in.CreateNamespace,
	}
}

// upgradeOptions maps spec.upgrade.
func upgradeOptions(sc *hrScope) release.UpgradeOptions {
	obj := sc.obj
	up := obj.Spec.Upgrade
	if up == nil {
		up = &helmv1.Upgrade{}
	}
	return release.UpgradeOptions{
		Chart:                    sc.chart,
		Values:                   sc.values,
		PostRenderer:             postrender.New(obj.Spec.PostRenderers, obj.Spec.CommonMetadata),
		Labels:                   ownerLabels(obj),
		Timeout:                  durationOr(up.Timeout, obj.GetTimeout()),
		Wait:                     !up.DisableWait,
		WaitForJobs:              !up.DisableWaitForJobs,
		DisableHooks:             up.DisableHooks,
		DisableOpenAPIValidation: up.DisableOpenAPIValidation,
		SkipSchemaValidation:     up.DisableSchemaValidation,
		TakeOwnership:            !up.DisableTakeOwnership,
		Force:                    up.Force,
		CleanupOnFail:            up.CleanupOnFail,
		ReuseValues:              up.PreserveValues,
	}
}

// uninstallOptions maps spec.uninstall.
func uninstallOptions(obj *helmv1.HelmRelease) release.UninstallOptions {
	un := obj.Spec.Uninstall
	if un == nil {
		un = &helmv1.Uninstall{}
	}
	propagation := "background"
	if un.DeletionPropagation != nil {
		propagation = *un.DeletionPropagation
	}
	return release.UninstallOptions{
		Timeout:             durationOr(un.Timeout, obj.GetTimeout()),
		DisableHooks:        un.DisableHooks,
		KeepHistory:         un.KeepHistory,
		Wait:                !un.DisableWait,
		DeletionPropagation: propagation,
	}
}

// postRenderersDigest is `sha256:<hex>` of spec.postRenderers as JSON; "" when there are none.
func postRenderersDigest(obj *helmv1.HelmRelease) string {
	if len(obj.Spec.PostRenderers) == 0 {
		return ""
	}
	b, err := json.Marshal(obj.Spec.PostRenderers)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("sha256:%x", sha256.Sum256(b))
}

// crdsPolicy returns the CRD policy of action: spec.install.crds (Create when empty, Skip
// with the deprecated skipCRDs) or spec.upgrade.crds (Skip when empty).
func crdsPolicy(obj *helmv1.HelmRelease, action helmv1.ReleaseAction) helmv1.CRDsPolicy {
	if action == helmv1.ReleaseActionInstall {
		in := obj.Spec.Install
		switch {
		case in == nil || in.CRDs == "":
			if in != nil && in.SkipCRDs {
				return helmv1.CRDsSkip
			}
			return helmv1.CRDsCreate
		default:
			return in.CRDs
		}
	}
	if up := obj.Spec.Upgrade; up != nil && up.CRDs != "" {
		return up.CRDs
	}
	return helmv1.CRDsSkip
}
