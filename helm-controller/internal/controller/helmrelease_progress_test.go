package controller

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// neverReadyTemplate is a Deployment, which never becomes ready here (no
// kube-controller-manager): Helm's wait for it lasts its whole timeout.
const neverReadyTemplate = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.0}]
`

// TestActionRecordedBeforeWait: while Helm waits for an install's resources, the status
// already says what runs and waits, and the reconcile request that started it is handled.
func TestActionRecordedBeforeWait(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{files: map[string]string{"templates/web.yaml": neverReadyTemplate}})
	hr := createHelmRelease(t, ns, "web", func(hr *helmv1.HelmRelease) {
		hr.Annotations = map[string]string{meta.ReconcileRequestAnnotation: "now"}
		// Far longer than the test's deadline: what the test sees is the wait, not its end.
		hr.Spec.Install = &helmv1.Install{Timeout: &metav1.Duration{Duration: 2 * time.Minute}}
	})
	testenv.Eventually(t, timeout, func() error {
		want := "Helm install of release " + ns + "/web with chart demo@1.0.0: waiting up to 2m0s for its resources"
		if err := env.ObjectIn(hr, meta.ReadyCondition, metav1.ConditionUnknown, meta.ProgressingReason, want)(); err != nil {
			return err
		}
		if err := testenv.CheckCondition(hr, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingReason, want); err != nil {
			return err
		}
		if hr.Status.LastHandledReconcileAt != "now" {
			return fmt.Errorf("lastHandledReconcileAt %q, want %q", hr.Status.LastHandledReconcileAt, "now")
		}
		return nil
	})
}
