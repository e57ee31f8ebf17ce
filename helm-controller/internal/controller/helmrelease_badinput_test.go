package controller

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// TestInvalidValuesYAML: values that are not YAML stall the release with a message naming the
// ConfigMap and key, and without the content; fixing the ConfigMap installs it.
func TestInvalidValuesYAML(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vals"},
		Data: map[string]string{"custom.yaml": "password: 'hunter2\nfoo: [bar\n"}}
	if err := env.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	publishChart(t, ns, "chart", testChart{})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.ValuesFrom = []helmv1.ValuesReference{{Kind: "ConfigMap", Name: "vals", ValuesKey: "custom.yaml"}}
	})
	waitNotReady(t, hr, helmv1.ValuesFailedReason, "spec.valuesFrom[0]: ConfigMap '"+ns+"/vals' key 'custom.yaml' is not valid YAML", true)
	t.Logf("message: %s", conditionMessage(hr, meta.ReadyCondition))
	if msg := meta.ReadyCondition; strings.Contains(conditionMessage(hr, msg), "hunter2") {
		t.Fatalf("the message quotes the values: %s", conditionMessage(hr, msg))
	}
	testenv.Eventually(t, timeout, func() error { // conditions are patched before the rest of the status
		if err := env.Client.Get(ctx, objectKey(hr), hr); err != nil {
			return err
		}
		if hr.Status.ObservedGeneration != hr.Generation {
			return errorf("a stall is an observation: observedGeneration %d, generation %d", hr.Status.ObservedGeneration, hr.Generation)
		}
		return nil
	})
	wantRevisions(t, ns, "app")

	cm.Data["custom.yaml"] = "fixed: true\n"
	if err := env.Client.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	requestReconcile(t, hr)
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	waitRendered(t, ns, "app", "fixed", "true")
}

// TestMissingValuesSecret: a values Secret that does not exist is named and retried; once it
// is created the release installs.
func TestMissingValuesSecret(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
		hr.Spec.ValuesFrom = []helmv1.ValuesReference{{Kind: "Secret", Name: "creds"}}
	})
	waitNotReady(t, hr, helmv1.ValuesFailedReason, "spec.valuesFrom[0]: Secret '"+ns+"/creds' not found", false)
	if err := testenv.CheckCondition(hr, meta.ReconcilingCondition, metav1.ConditionTrue, "", ""); err != nil {
		t.Fatalf("a missing Secret is retried: %v", err)
	}
	if err := env.Client.Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
		StringData: map[string]string{"values.yaml": "password: s3cr3t\n"}}); err != nil {
		t.Fatal(err)
	}
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	waitRendered(t, ns, "app", "password", `"s3cr3t"`)
}

// TestTemplateRenderFailure: a template that fails to render stalls the install with a message
// naming the template; nothing is installed and, with no retries configured, nothing is
// retried until the chart changes. A fixed chart version installs.
func TestTemplateRenderFailure(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{files: map[string]string{
		"templates/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  x: {{ required \"value 'mandatory' is required\" .Values.mandatory }}\n",
	}})
	hr := createHelmRelease(t, ns, "app", nil)
	waitNotReady(t, hr, helmv1.InstallFailedReason, "templates/broken.yaml", true)
	msg := conditionMessage(hr, meta.ReadyCondition)
	t.Logf("message: %s", msg)
	for _, want := range []string{"Helm install failed for release " + ns + "/app with chart demo@1.0.0", "value 'mandatory' is required"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("message %q does not contain %q", msg, want)
		}
	}
	// Conditions are patched before the rest of the status: wait for the counters.
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), objectKey(hr), hr); err != nil {
			return err
		}
		if hr.Status.InstallFailures != 1 || hr.Status.Failures != 1 {
			return errorf("failure counters %d/%d, want 1/1", hr.Status.InstallFailures, hr.Status.Failures)
		}
		return nil
	})
	waitEvent(t, ns, "app", corev1.EventTypeWarning, helmv1.InstallFailedReason, "templates/broken.yaml")
	// Not retried: the same chart and values do not change the outcome.
	requestReconcile(t, hr)
	waitNotReady(t, hr, helmv1.InstallFailedReason, "templates/broken.yaml", true)
	if hr.Status.InstallFailures != 1 {
		t.Fatalf("the failed install was retried: %d install failures", hr.Status.InstallFailures)
	}
	if renderedValues(t, ns, "app") != nil {
		t.Fatal("objects were installed from a chart that fails to render")
	}

	publishChart(t, ns, "chart", testChart{version: "1.0.1"})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.1")
	if hr.Status.InstallFailures != 0 || hr.Status.Failures != 0 {
		t.Fatalf("failure counters %d/%d after a success, want 0/0", hr.Status.InstallFailures, hr.Status.Failures)
	}
}

// TestReleaseNameTooLong: Helm's 53-character limit. An explicit spec.releaseName of 60
// characters is refused by the API; a default name (`<targetNamespace>-<name>`) that long
// stalls the HelmRelease with a message saying so.
func TestReleaseNameTooLong(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	long := strings.Repeat("r", 60)
	err := env.Client.Create(context.Background(), &helmv1.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "explicit"},
		Spec: helmv1.HelmReleaseSpec{
			ChartRef: &helmv1.CrossNamespaceSourceReference{Kind: "HelmChart", Name: "chart"},
			Interval: metav1.Duration{Duration: 600e9}, ReleaseName: long,
		},
	})
	if err == nil || !strings.Contains(err.Error(), "spec.releaseName") {
		t.Fatalf("a 60-character spec.releaseName was not refused: %v", err)
	}

	publishChart(t, ns, "chart", testChart{})
	name := strings.Repeat("n", 60-len(ns)-1) // targetNamespace "<ns>" + "-" + name = 60
	hr := createHelmRelease(t, ns, name, func(hr *helmv1.HelmRelease) { hr.Spec.TargetNamespace = ns })
	waitNotReady(t, hr, meta.InvalidSpecReason, "is 60 characters long; Helm allows at most 53: set a shorter spec.releaseName", true)
}

// TestChartVersionNotFound: when source-controller cannot find the chart version, the
// HelmRelease reports the HelmChart's message, naming the version, and does not release the
// artifact the HelmChart still holds from before.
func TestChartVersionNotFound(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{version: "1.0.0"})
	failChart(t, ns, "chart", "invalid chart reference: no 'demo' chart with version matching '9.9.9' found")
	hr := createHelmRelease(t, ns, "app", nil)
	waitNotReady(t, hr, meta.DependencyNotReadyReason, "HelmChart '"+ns+"/chart' is not ready: invalid chart reference: no 'demo' chart with version matching '9.9.9' found", false)
	wantRevisions(t, ns, "app")
}

// TestChartSourceMissing: a chartRef to a HelmChart that does not exist is waited for.
func TestChartSourceMissing(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	hr := createHelmRelease(t, ns, "app", nil)
	waitNotReady(t, hr, meta.DependencyNotReadyReason, "HelmChart '"+ns+"/chart' not found", false)
	publishChart(t, ns, "chart", testChart{})
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
}

func conditionMessage(hr *helmv1.HelmRelease, typ string) string {
	for _, c := range hr.Status.Conditions {
		if c.Type == typ {
			return c.Message
		}
	}
	return ""
}
