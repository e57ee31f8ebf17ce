package controller

import (
	"context"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/testenv"
)

// TestRemoteCluster: spec.kubeConfig applies through the kubeconfig in a Secret (here, one for
// the test cluster itself); a kubeconfig running an exec plugin is refused, naming the user and
// the flag that would allow it, and a missing Secret is reported by name. Neither applies anything.
func TestRemoteCluster(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	raw, err := os.ReadFile(env.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := clientcmd.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	for name := range kc.AuthInfos {
		kc.AuthInfos[name].Exec = &clientcmdapi.ExecConfig{Command: "get-token", APIVersion: "client.authentication.k8s.io/v1", InteractiveMode: "Never"}
	}
	withExec, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"remote": raw, "with-exec": withExec} {
		if err := env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"value": b}}); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"remote/cm.yaml": configMap("remote", "1"), "exec/cm.yaml": configMap("exec", "1"), "missing/cm.yaml": configMap("missing", "1"),
	})
	remoteVia := func(secret string) func(*kustomizev1.Kustomization) {
		return func(k *kustomizev1.Kustomization) {
			k.Spec.TargetNamespace = ns
			k.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: meta.SecretKeyReference{Name: secret}}
		}
	}
	ok := createKustomization(t, ns, "remote", "./remote", remoteVia("remote"))
	waitApplied(t, ok, "main@sha1:1")
	waitConfigMap(t, ns, "remote", "1")

	exec := createKustomization(t, ns, "exec", "./exec", remoteVia("with-exec"))
	testenv.Eventually(t, timeout, env.ObjectIn(exec, meta.StalledCondition, metav1.ConditionTrue, identity.KubeConfigFailedReason,
		`Secret '`+ns+`/with-exec' key 'value' runs an exec plugin ("get-token")`))

	missing := createKustomization(t, ns, "missing", "./missing", remoteVia("absent"))
	testenv.Eventually(t, timeout, env.ObjectIn(missing, meta.ReadyCondition, metav1.ConditionFalse, identity.KubeConfigFailedReason, "Secret '"+ns+"/absent' not found"))

	for _, name := range []string{"exec", "missing"} {
		if v := configMapValue(t, ns, name); v != "<absent>" {
			t.Errorf("ConfigMap %s was applied although its kubeconfig is unusable", name)
		}
	}
}
