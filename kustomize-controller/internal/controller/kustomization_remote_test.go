package controller

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/kustomize/build"
	"weir.dev/pkg/testenv"
)

// TestRemoteBaseRefused: by default a Kustomization whose build names a remote resource is
// Ready=False, naming the file, the entry and the flag that allows it, and the remote server
// receives no request; nothing is applied.
func TestRemoteBaseRefused(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, configMap("remote", "1"))
	}))
	defer srv.Close()
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/good.yaml":          configMap("good", "1"),
		"app/kustomization.yaml": "resources: [good.yaml, " + srv.URL + "/remote.yaml]\n",
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	want := "app/kustomization.yaml: resources entry '" + srv.URL + "/remote.yaml' is a remote reference, and remote bases are disabled (enable them with " + build.AllowRemoteBasesFlag + ")"
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.BuildFailedReason, want))
	if n := requests.Load(); n != 0 {
		t.Errorf("the remote server received %d requests", n)
	}
	if configMapValue(t, ns, "good") != "<absent>" {
		t.Error("an object was applied although the build failed")
	}
}
