package cmd

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
)

func TestSuspendAndResume(t *testing.T) {
	ns := env.Namespace(t)
	create(t, kustomization(ns, "apps", "app", ready(metav1.ConditionTrue, meta.SucceededReason, "applied"), "main@sha1:abc"))
	suspended := func() bool {
		k := &kustomizev1.Kustomization{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "apps"}, k); err != nil {
			t.Fatal(err)
		}
		return k.Spec.Suspend
	}

	code, out, errOut := weir(t, "suspend", "ks", "apps", "-n", ns)
	if code != 0 || !strings.Contains(out, "✔ suspended Kustomization "+ns+"/apps") || !suspended() {
		t.Fatalf("suspend: code %d, out %q, err %q", code, out, errOut)
	}
	if code, out, _ := weir(t, "get", "ks", "apps", "-n", ns); code != 0 || !strings.Contains(out, "true") {
		t.Errorf("get shows the suspension: %q", out)
	}
	if code, _, errOut := weir(t, "suspend", "ks", "apps", "-n", ns); code != 0 || !strings.Contains(errOut, "is already suspended") {
		t.Errorf("suspend twice: code %d, %q", code, errOut)
	}

	requests := fakeController(t, "ks", ns, "apps", readyTrue("Applied revision: main@sha1:def"))
	code, out, errOut = weir(t, "resume", "kustomization", "apps", "-n", ns, "--timeout", "20s")
	if code != 0 || suspended() || requests() != 1 {
		t.Fatalf("resume: code %d, suspended %v, requests %d, out %q, err %q", code, suspended(), requests(), out, errOut)
	}
	for _, want := range []string{"► resumed Kustomization " + ns + "/apps", "✔ Kustomization " + ns + "/apps is Ready: Applied revision: main@sha1:def"} {
		if !strings.Contains(out, want) {
			t.Errorf("resume output lacks %q:\n%s", want, out)
		}
	}

	if code, _, errOut := weir(t, "suspend", "ks", "ap", "-n", ns); code != 1 || !strings.Contains(errOut, "did you mean apps?") {
		t.Errorf("suspend of a missing object: code %d, %q", code, errOut)
	}
}
