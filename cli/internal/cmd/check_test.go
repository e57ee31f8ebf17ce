package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func TestCheckWithoutControllers(t *testing.T) {
	ns := env.Namespace(t)
	code, out, errOut := weir(t, "check", "--controllers-namespace", ns)
	if code != 0 {
		t.Fatalf("code %d, %q\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"Kubernetes v",
		"✔ kustomizations.kustomize.weir.dev: served v1, stored v1",
		"✔ receivers.notification.weir.dev: served v1, stored v1",
		"not installed in-cluster: no controller Deployments in " + ns,
		"✔ all checks passed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckUnreadyController(t *testing.T) {
	ns := env.Namespace(t)
	labels := map[string]string{"app": "source-controller"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "source-controller"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "manager", Image: "weir/source-controller:v1.2.3"}}},
			},
		},
	}
	if err := env.Client.Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := weir(t, "check", "--controllers-namespace", ns)
	if code != 1 || !strings.Contains(errOut, "Weir is not healthy") {
		t.Fatalf("code %d, %q\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"✗ source-controller: 0/1 replicas ready (weir/source-controller:v1.2.3)",
		"✗ kustomize-controller: no Deployment in " + ns,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckCRDsMissing(t *testing.T) {
	// A cluster without Weir's CRDs, faked: the test control plane always has them.
	c := fake.NewClientBuilder().WithScheme(Scheme()).Build()
	var out bytes.Buffer
	ok, err := checkCRDs(context.Background(), c, &out)
	if err != nil || ok {
		t.Fatalf("checkCRDs = %v, %v", ok, err)
	}
	if !strings.Contains(out.String(), "✗ gitrepositories.source.weir.dev: not installed") || !strings.Contains(out.String(), errNoCRDs.Error()) {
		t.Errorf("output:\n%s", out.String())
	}
}
