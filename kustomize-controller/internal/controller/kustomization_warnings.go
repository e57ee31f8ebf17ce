package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"weir.dev/pkg/kustomize/build"
	"weir.dev/pkg/steps"
)

// deprecatedFieldReason is the reason of the Normal event that says a kustomization file of
// the build uses a field kustomize deprecated.
const deprecatedFieldReason = "DeprecatedKustomizeField"

// kustomizeWarning is the build.Options.Warn of sc's build: what kustomize warned about is
// logged through the reconcile's logger (which names the Kustomization) with the revision,
// instead of going raw to the controller's stderr, and a deprecated field is also a Normal
// event on the Kustomization naming the file, for `kubectl describe` and notifications.
func (r *KustomizationReconciler) kustomizeWarning(ctx context.Context, sc *ksScope) func(build.Warning) {
	return func(w build.Warning) {
		log.FromContext(ctx).Info("kustomize warned about the build", "warning", w.Message, "revision", sc.artifact.Revision)
		if w.Deprecated {
			r.EventRecorder.AnnotatedEventf(sc.obj, nil, revisionMetadata(sc), corev1.EventTypeNormal, deprecatedFieldReason,
				steps.ActionReconcile, "%s", w.Message)
		}
	}
}
