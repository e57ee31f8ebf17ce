package controller

import (
	"context"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// tenant creates ServiceAccount "tenant" in ns that may manage ConfigMaps and Secrets (Helm's
// records) in ns only.
func tenant(t *testing.T, ns string) {
	t.Helper()
	for _, o := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps", "secrets"}, Verbs: []string{"*"}}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "tenant"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tenant", Namespace: ns}}},
	} {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImpersonation: with spec.serviceAccountName, Helm acts as that ServiceAccount: a chart
// of ConfigMaps installs, but a chart that also holds a ClusterRole fails naming the account,
// and creates nothing.
func TestImpersonation(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	tenant(t, ns)
	publishChart(t, ns, "chart", testChart{})
	publishChart(t, ns, "admin", testChart{name: "admin", files: map[string]string{
		"templates/clusterrole.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {{ .Release.Namespace }}-escalate\nrules:\n- apiGroups: ['*']\n  resources: ['*']\n  verbs: ['*']\n",
	}})
	ok := createHelmRelease(t, ns, "ok", func(hr *helmv1.HelmRelease) { hr.Spec.ServiceAccountName = "tenant" })
	waitReleased(t, ok, helmv1.InstallSucceededReason, "1.0.0")

	bad := createHelmRelease(t, ns, "bad", func(hr *helmv1.HelmRelease) {
		hr.Spec.ServiceAccountName = "tenant"
		hr.Spec.ChartRef.Name = "admin"
	})
	waitNotReady(t, bad, helmv1.InstallFailedReason, `User "system:serviceaccount:`+ns+`:tenant" cannot`, true)
	if !strings.Contains(conditionMessage(bad, meta.ReadyCondition), "clusterroles") {
		t.Fatalf("the message does not name the kind refused: %s", conditionMessage(bad, meta.ReadyCondition))
	}
	t.Logf("message: %s", conditionMessage(bad, meta.ReadyCondition))
	var cr rbacv1.ClusterRole
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: ns + "-escalate"}, &cr); err == nil {
		t.Fatal("the tenant created a ClusterRole")
	}
	if renderedValues(t, ns, "bad") != nil {
		t.Fatal("the tenant's ConfigMap was installed although its chart holds a forbidden ClusterRole")
	}
}

// TestLookupImpersonated: the template function `lookup` reads the cluster as the impersonated
// account: a tenant cannot read a Secret of another namespace through a chart, while the
// controller's own identity (no serviceAccountName) can, which proves lookup ran at all.
func TestLookupImpersonated(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	other := env.Namespace(t)
	tenant(t, ns)
	if err := env.Client.Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "private"},
		StringData: map[string]string{"password": "top-secret-value"}}); err != nil {
		t.Fatal(err)
	}
	publishChart(t, ns, "chart", testChart{files: map[string]string{
		"templates/lookup.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-lookup\ndata:\n  found: {{ (lookup \"v1\" \"Secret\" .Values.from \"private\").data | toJson | quote }}\n",
	}})
	values := jsonValues(`{"from": "` + other + `"}`)

	tenantHR := createHelmRelease(t, ns, "as-tenant", func(hr *helmv1.HelmRelease) {
		hr.Spec.ServiceAccountName = "tenant"
		hr.Spec.Values = values
	})
	waitNotReady(t, tenantHR, helmv1.InstallFailedReason, `secrets "private" is forbidden: User "system:serviceaccount:`+ns+`:tenant" cannot get resource "secrets"`, true)
	t.Logf("message: %s", conditionMessage(tenantHR, meta.ReadyCondition))
	if strings.Contains(conditionMessage(tenantHR, meta.ReadyCondition), "top-secret") {
		t.Fatal("the message holds the Secret's value")
	}
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "as-tenant-lookup"}, &cm); err == nil {
		t.Fatalf("the tenant's release rendered the lookup: %v", cm.Data)
	}

	controllerHR := createHelmRelease(t, ns, "as-controller", func(hr *helmv1.HelmRelease) { hr.Spec.Values = values })
	waitReleased(t, controllerHR, helmv1.InstallSucceededReason, "1.0.0")
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "as-controller-lookup"}, &cm); err != nil {
			return err
		}
		if !strings.Contains(cm.Data["found"], "dG9wLXNlY3JldC12YWx1ZQ==") { // base64 of the password
			return errorf("lookup as the controller found %q", cm.Data["found"])
		}
		return nil
	})
}

// TestRemoteCluster: spec.kubeConfig releases into the cluster of a kubeconfig Secret (here the
// test cluster itself, reached through the kubeconfig as a remote one would be); a missing
// Secret is named and waited for.
func TestRemoteCluster(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{})
	hr := createHelmRelease(t, ns, "remote", func(hr *helmv1.HelmRelease) {
		hr.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: meta.SecretKeyReference{Name: "cluster"}}
	})
	waitNotReady(t, hr, "KubeConfigFailed", "spec.kubeConfig.secretRef: Secret '"+ns+"/cluster' not found", false)

	kubeconfig, err := os.ReadFile(env.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster"},
		Data: map[string][]byte{"value": kubeconfig}}); err != nil {
		t.Fatal(err)
	}
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	waitRendered(t, ns, "remote", "fromChart", "true")
}
