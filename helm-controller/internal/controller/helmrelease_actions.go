package controller

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/helm/postrender"
)

// durationOr returns d, or def when d is unset.
func durationOr(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return d.Duration
}

// actionSpec is what spec.install and spec.upgrade share.
type actionSpec struct {
	timeout                                *metav1.Duration
	disableWait, disableWaitForJobs        bool
	disableHooks, disableOpenAPIValidation bool
	disableSchemaValidation                bool
	disableTakeOwnership                   bool
}

// DefaultMaxObjects is the default cap on the objects of one release's manifest: as for a
// Kustomization, a set that kustomize post-renders in about a minute and whose inventory fits
// in a status.
const DefaultMaxObjects = 5000

func (r *HelmReleaseReconciler) maxObjects() int {
	if r.MaxObjects > 0 {
		return r.MaxObjects
	}
	return DefaultMaxObjects
}

// actionOptions maps the part of spec.install or spec.upgrade both actions share.
func actionOptions(sc *hrScope, a actionSpec) release.ActionOptions {
	obj := sc.obj
	return release.ActionOptions{
		Chart:                    sc.chart,
		Values:                   sc.values,
		PostRenderer:             postrender.Limit{Max: sc.maxObjects, Next: postrender.New(obj.Spec.PostRenderers, obj.Spec.CommonMetadata)},
		Labels:                   ownerLabels(obj),
		Timeout:                  durationOr(a.timeout, obj.GetTimeout()),
		Wait:                     !a.disableWait,
		WaitForJobs:              !a.disableWaitForJobs,
		DisableHooks:             a.disableHooks,
		DisableOpenAPIValidation: a.disableOpenAPIValidation,
		SkipSchemaValidation:     a.disableSchemaValidation,
		TakeOwnership:            !a.disableTakeOwnership,
	}
}

// installOptions maps spec.install; replace reuses the name of a release whose newest revision
// is uninstalled (kept history) or failed. The chart's CRDs are not Helm's to install
// (release.Install skips them): applyCRDs checks and applies them before the install.
func installOptions(sc *hrScope, replace bool) release.InstallOptions {
	in := sc.obj.Spec.Install
	if in == nil {
		in = &helmv1.Install{}
	}
	return release.InstallOptions{
		ActionOptions: actionOptions(sc, actionSpec{
			timeout: in.Timeout, disableWait: in.DisableWait, disableWaitForJobs: in.DisableWaitForJobs,
			disableHooks: in.DisableHooks, disableOpenAPIValidation: in.DisableOpenAPIValidation,
			disableSchemaValidation: in.DisableSchemaValidation, disableTakeOwnership: in.DisableTakeOwnership,
		}),
		Replace:         in.Replace || replace,
		CreateNamespace: in.CreateNamespace,
	}
}

// upgradeOptions maps spec.upgrade.
func upgradeOptions(sc *hrScope) release.UpgradeOptions {
	up := sc.obj.Spec.Upgrade
	if up == nil {
		up = &helmv1.Upgrade{}
	}
	return release.UpgradeOptions{
		ActionOptions: actionOptions(sc, actionSpec{
			timeout: up.Timeout, disableWait: up.DisableWait, disableWaitForJobs: up.DisableWaitForJobs,
			disableHooks: up.DisableHooks, disableOpenAPIValidation: up.DisableOpenAPIValidation,
			disableSchemaValidation: up.DisableSchemaValidation, disableTakeOwnership: up.DisableTakeOwnership,
		}),
		Force:         up.Force,
		CleanupOnFail: up.CleanupOnFail,
		ReuseValues:   up.PreserveValues,
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
