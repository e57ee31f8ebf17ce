package identity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	"weir.dev/pkg/steps"
	"weir.dev/pkg/testenv"
)

var env *testenv.Environment

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func newResolver(t *testing.T) *Resolver {
	t.Helper()
	return &Resolver{Config: env.Config, Scheme: env.Scheme, Mapper: env.Client.RESTMapper(), Reader: env.Client}
}

func TestImpersonatedServiceAccountHasOnlyItsRights(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}})
	create(t, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "configmaps"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}}},
	})
	create(t, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "configmaps"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: "tenant"}},
	})

	r := newResolver(t)
	c, err := r.For(ctx, Target{Namespace: ns, ServiceAccountName: "tenant"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Identity != "ServiceAccount '"+ns+"/tenant'" || c.Remote {
		t.Errorf("identity %q remote %v", c.Identity, c.Remote)
	}
	// The API server's RBAC authorizer sees the new RoleBinding through its own informer: wait
	// for it rather than for a fixed time.
	testenv.Eventually(t, 30*time.Second, func() error {
		err := c.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "allowed"}})
		if err != nil {
			return fmt.Errorf("the tenant may create ConfigMaps in its namespace: %w", err)
		}
		return nil
	})
	err = c.Client.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns + "-escalate"}})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("creating a ClusterRole as the tenant: got %v, want forbidden", err)
	}

	again, err := r.For(ctx, Target{Namespace: ns, ServiceAccountName: "tenant"})
	if err != nil || again != c {
		t.Errorf("the same identity must reuse its client (err %v)", err)
	}

	r.DefaultServiceAccount = "tenant"
	def, err := r.For(ctx, Target{Namespace: ns})
	if err != nil || def != c {
		t.Errorf("--default-service-account must impersonate 'tenant' (err %v)", err)
	}
}

func TestInvalidServiceAccountNameStalls(t *testing.T) {
	_, err := newResolver(t).For(context.Background(), Target{Namespace: "x", ServiceAccountName: "Not_Valid"})
	var stalled *steps.StalledError
	if !errors.As(err, &stalled) || stalled.Reason != meta.InvalidSpecReason || !strings.Contains(err.Error(), "spec.serviceAccountName") {
		t.Fatalf("got %v", err)
	}
}

func TestRemoteClusterFromKubeConfigSecret(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	raw, err := os.ReadFile(env.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "remote"}, Data: map[string][]byte{"value": raw}})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "custom-key"}, Data: map[string][]byte{"config": raw}})

	r := newResolver(t)
	c, err := r.For(ctx, Target{Namespace: ns, KubeConfig: &meta.KubeConfigReference{SecretRef: meta.SecretKeyReference{Name: "remote"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Remote {
		t.Error("a kubeconfig target must be remote")
	}
	var got corev1.Namespace
	if err := c.Client.Get(ctx, client.ObjectKey{Name: ns}, &got); err != nil {
		t.Fatalf("the remote client must reach the cluster of the kubeconfig: %v", err)
	}
	if _, err := r.For(ctx, Target{Namespace: ns, KubeConfig: &meta.KubeConfigReference{SecretRef: meta.SecretKeyReference{Name: "custom-key", Key: "config"}}}); err != nil {
		t.Errorf("an explicit key: %v", err)
	}
}

func TestKubeConfigErrors(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	raw, err := os.ReadFile(env.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	base, err := clientcmd.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	variant := func(edit func(kc *clientcmdapi.Config)) []byte {
		kc := base.DeepCopy()
		edit(kc)
		b, err := clientcmd.Write(*kc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	anyUser := func(kc *clientcmdapi.Config) string {
		for name := range kc.AuthInfos {
			return name
		}
		t.Fatal("kubeconfig without users")
		return ""
	}
	anyCluster := func(kc *clientcmdapi.Config) string {
		for name := range kc.Clusters {
			return name
		}
		t.Fatal("kubeconfig without clusters")
		return ""
	}
	secrets := map[string][]byte{
		"exec": variant(func(kc *clientcmdapi.Config) {
			kc.AuthInfos[anyUser(kc)].Exec = &clientcmdapi.ExecConfig{Command: "/bin/steal-credentials", APIVersion: "client.authentication.k8s.io/v1", InteractiveMode: "Never"}
		}),
		"auth-provider": variant(func(kc *clientcmdapi.Config) {
			kc.AuthInfos[anyUser(kc)].AuthProvider = &clientcmdapi.AuthProviderConfig{Name: "gcp"}
		}),
		"token-file": variant(func(kc *clientcmdapi.Config) { kc.AuthInfos[anyUser(kc)].TokenFile = "/var/run/secrets/token" }),
		"insecure":   variant(func(kc *clientcmdapi.Config) { kc.Clusters[anyCluster(kc)].InsecureSkipTLSVerify = true }),
		"garbage":    []byte("{not: [a kubeconfig"),
	}
	for name, b := range secrets {
		create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"value": b}})
	}
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-key"}, Data: map[string][]byte{"other": raw}})

	for _, tc := range []struct {
		secret, key string
		stalled     bool
		want        string
	}{
		{secret: "exec", stalled: true, want: `runs an exec plugin ("/bin/steal-credentials") for user`},
		{secret: "auth-provider", stalled: true, want: `uses the auth-provider plugin "gcp"`},
		{secret: "token-file", stalled: true, want: "refers to credential files"},
		{secret: "insecure", stalled: true, want: "disables TLS verification"},
		{secret: "garbage", stalled: true, want: "is not a valid kubeconfig"},
		{secret: "no-key", stalled: true, want: "Secret '" + ns + "/no-key' has no key 'value'"},
		{secret: "no-key", key: "missing", stalled: true, want: "has no key 'missing'"},
		{secret: "absent", want: "Secret '" + ns + "/absent' not found"},
	} {
		t.Run(tc.secret+tc.key, func(t *testing.T) {
			_, err := newResolver(t).For(ctx, Target{Namespace: ns, KubeConfig: &meta.KubeConfigReference{SecretRef: meta.SecretKeyReference{Name: tc.secret, Key: tc.key}}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			var stalled *steps.StalledError
			var failed *steps.FailedError
			if tc.stalled && (!errors.As(err, &stalled) || stalled.Reason != KubeConfigFailedReason) {
				t.Errorf("want Stalled(%s), got %#v", KubeConfigFailedReason, err)
			}
			if !tc.stalled && (!errors.As(err, &failed) || failed.Reason != KubeConfigFailedReason) {
				t.Errorf("want Failed(%s), got %#v", KubeConfigFailedReason, err)
			}
			if strings.Contains(err.Error(), "BEGIN") || strings.Contains(err.Error(), string(base.AuthInfos[anyUser(base)].ClientKeyData[40:80])) {
				t.Errorf("the error leaks kubeconfig content: %v", err)
			}
		})
	}

	t.Run("exec allowed by the flag", func(t *testing.T) {
		r := newResolver(t)
		r.InsecureKubeConfigExec = true
		cfg, err := r.parseKubeConfig(secrets["exec"], "test")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ExecProvider == nil || cfg.ExecProvider.Command != "/bin/steal-credentials" {
			t.Errorf("exec provider dropped: %+v", cfg.ExecProvider)
		}
	})
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func TestGone(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "here"}})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kubeconfig"}, Data: map[string][]byte{"value": []byte("x")}})
	r := newResolver(t)
	for _, tc := range []struct {
		target Target
		def    string
		want   string
	}{
		{target: Target{Namespace: ns}},
		{target: Target{Namespace: ns, ServiceAccountName: "here"}},
		{target: Target{Namespace: ns, ServiceAccountName: "gone"}, want: "ServiceAccount '" + ns + "/gone' no longer exists"},
		{target: Target{Namespace: ns}, def: "gone", want: "ServiceAccount '" + ns + "/gone' no longer exists"},
		{target: Target{Namespace: ns, KubeConfig: &meta.KubeConfigReference{SecretRef: meta.SecretKeyReference{Name: "kubeconfig"}}}},
		{target: Target{Namespace: ns, ServiceAccountName: "remote-sa", KubeConfig: &meta.KubeConfigReference{SecretRef: meta.SecretKeyReference{Name: "kubeconfig"}}}},
		{target: Target{Namespace: ns, KubeConfig: &meta.KubeConfigReference{SecretRef: meta.SecretKeyReference{Name: "gone"}}},
			want: "the kubeconfig Secret '" + ns + "/gone' no longer exists"},
	} {
		r.DefaultServiceAccount = tc.def
		got, err := r.Gone(ctx, tc.target)
		if err != nil || got != tc.want {
			t.Errorf("Gone(%+v) with default %q = %q, %v; want %q", tc.target, tc.def, got, err, tc.want)
		}
	}
}
