package cmd

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestInstallExport(t *testing.T) {
	code, out, errOut := weir(t, "install", "--export")
	if code != 0 {
		t.Fatalf("code %d, %q", code, errOut)
	}
	for _, want := range []string{"kind: CustomResourceDefinition", "name: kustomizations.kustomize.weir.dev", "name: helm-controller", "namespace: weir-system"} {
		if !strings.Contains(out, want) {
			t.Errorf("the export lacks %q", want)
		}
	}
}

func TestInstall(t *testing.T) {
	code, out, errOut := weir(t, "install")
	if code != 0 {
		t.Fatalf("code %d, %q\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "✔ applied 9 CRDs") || !strings.Contains(out, "✔ CRDs Established") {
		t.Errorf("output:\n%s", out)
	}
	for _, name := range controllers {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: weirNamespace, Name: name}, &appsv1.Deployment{}); err != nil {
			t.Errorf("Deployment %s: %v", name, err)
		}
	}
	// Applying again changes nothing and succeeds.
	if code, _, errOut := weir(t, "install"); code != 0 {
		t.Errorf("second install: code %d, %q", code, errOut)
	}
	// No node runs the controllers' pods here: check reports them as not ready.
	code, out, _ = weir(t, "check")
	if code != 1 || !strings.Contains(out, "✗ helm-controller: 0/1 replicas ready") {
		t.Errorf("check after install: code %d\n%s", code, out)
	}
}
