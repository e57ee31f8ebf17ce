package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/objects"
	"weir.dev/pkg/testenv"
)

// TestExportRoundTrip creates objects with weir create, exports them, deletes them, applies
// the export and finds the same specs, while the export holds nothing a server or controller
// wrote.
func TestExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	f := writeCredentialFiles(t)
	playReadiness(t, ns, func(*unstructured.Unstructured) []metav1.Condition {
		return []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason, Message: "ok"}}
	})
	for _, tc := range createCases(f) {
		if tc.args[0] == "tenant" {
			continue
		}
		code, out, errOut := weir(t, append(append([]string{"create"}, tc.args...), "-n", ns, "--timeout", "1m")...)
		if code != 0 {
			t.Fatalf("%v: code %d, %q\n%s", tc.args, code, errOut, out)
		}
	}
	// A HelmChart a HelmRelease made from its spec.chart, and a reconcile request on a source.
	generated := &sourcev1.HelmChart{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ns + "-podinfo", Labels: map[string]string{helmv1.OwnerNameLabel: "podinfo", helmv1.OwnerNamespaceLabel: ns}},
		Spec:       sourcev1.HelmChartSpec{Chart: "podinfo", SourceRef: sourcev1.HelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: "charts"}, Interval: metav1.Duration{Duration: 60e9}},
	}
	if err := env.Client.Create(ctx, generated); err != nil {
		t.Fatal(err)
	}
	repo := &sourcev1.GitRepository{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, repo); err != nil {
		t.Fatal(err)
	}
	repo.Annotations = map[string]string{meta.ReconcileRequestAnnotation: "now", "team": "a"}
	repo.Finalizers = []string{"weir.dev/finalizer"}
	if err := env.Client.Update(ctx, repo); err != nil {
		t.Fatal(err)
	}

	before := map[string]*unstructured.Unstructured{}
	for _, k := range objects.Kinds {
		list := k.NewList()
		if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		for i := range list.Items {
			if list.Items[i].GetKind() != "HelmChart" {
				before[objects.Ref(&list.Items[i])] = &list.Items[i]
			}
		}
	}
	if len(before) != 16 {
		t.Fatalf("%d Weir objects created, want 16", len(before))
	}

	code, out, errOut := weir(t, "export", "all", "--all", "-n", ns)
	if code != 0 {
		t.Fatalf("export: code %d, %q", code, errOut)
	}
	exported := decodeYAML(t, out)
	if len(exported) != len(before) {
		t.Errorf("exported %d objects, want %d:\n%s", len(exported), len(before), out)
	}
	for _, bad := range []string{"status:", "uid:", "resourceVersion:", "generation:", "creationTimestamp:", "managedFields:",
		"finalizers:", meta.ReconcileRequestAnnotation, "kind: Secret", "kind: HelmChart"} {
		if strings.Contains(out, bad) {
			t.Errorf("the export holds %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "team: a") {
		t.Errorf("the export lost the user's annotation:\n%s", out)
	}
	// Kinds in `weir get all` order (sources first), then namespace and name.
	var order []string
	for _, u := range exported {
		order = append(order, u.GetKind()+"/"+u.GetName())
	}
	want := "GitRepository/app,GitRepository/app-basic,GitRepository/app-ssh,OCIRepository/manifests,HelmRepository/charts,HelmRepository/oci-charts," +
		"Kustomization/apps,Kustomization/infra,HelmRelease/from-oci,HelmRelease/podinfo,Provider/hook,Provider/oncall,Provider/slack,Alert/ops,Receiver/ci,Receiver/github"
	if got := strings.Join(order, ","); got != want {
		t.Errorf("order %s", got)
	}

	// Delete everything; apply the export; the specs are those before.
	for _, u := range before {
		if err := env.Client.Patch(ctx, u.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Delete(ctx, u.DeepCopy()); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, time.Minute, func() error {
		for _, u := range before {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(u), u.DeepCopy()); err == nil {
				return errorf("%s is still there", objects.Ref(u))
			}
		}
		return nil
	})
	for _, u := range exported {
		if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("test")); err != nil {
			t.Fatalf("applying the export of %s: %v", objects.Ref(u), err)
		}
	}
	for ref, u := range before {
		after := u.DeepCopy()
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(u), after); err != nil {
			t.Errorf("%s: %v", ref, err)
			continue
		}
		if !equality.Semantic.DeepEqual(u.Object["spec"], after.Object["spec"]) {
			t.Errorf("%s: spec %v, was %v", ref, after.Object["spec"], u.Object["spec"])
		}
		if !equality.Semantic.DeepEqual(u.GetLabels(), after.GetLabels()) {
			t.Errorf("%s: labels %v, were %v", ref, after.GetLabels(), u.GetLabels())
		}
	}
}

func TestExportSecretsOnlyWhenAsked(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "git-auth"}, StringData: map[string]string{"password": "s3cret-value"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sh.helm.release.v1.web.v1"}, Type: "helm.sh/release.v1", StringData: map[string]string{"release": "x"}},
	} {
		if err := env.Client.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := weir(t, "export", "all", "--all", "-n", ns)
	if code != 0 || strings.Contains(out, "kind: Secret") {
		t.Errorf("export all: code %d, %q\n%s", code, errOut, out)
	}
	code, out, errOut = weir(t, "export", "secret", "git-auth", "-n", ns)
	if code != 0 || !strings.Contains(out, "password: czNjcmV0LXZhbHVl") || strings.Contains(out, "resourceVersion") {
		t.Errorf("export secret: code %d, %q\n%s", code, errOut, out)
	}
	code, out, errOut = weir(t, "export", "secret", "--all", "-n", ns)
	if code != 0 || !strings.Contains(out, "name: git-auth") || strings.Contains(out, "helm.sh/release.v1") {
		t.Errorf("export secret --all: code %d, %q\n%s", code, errOut, out)
	}
}

func TestExportSortsAcrossNamespaces(t *testing.T) {
	nsB, nsA := env.NamespaceNamed(t, "export-b"), env.NamespaceNamed(t, "export-a")
	for _, ns := range []string{nsB, nsA} {
		for _, name := range []string{"zeta", "alpha"} {
			create(t, gitRepository(ns, name, nil, ""))
		}
	}
	code, out, errOut := weir(t, "export", "gitrepo", "--all", "-A")
	if code != 0 {
		t.Fatalf("code %d, %q", code, errOut)
	}
	var keys []string
	for _, u := range decodeYAML(t, out) {
		keys = append(keys, u.GetNamespace()+"/"+u.GetName())
	}
	joined := strings.Join(keys, ",")
	want := nsA + "/alpha," + nsA + "/zeta," + nsB + "/alpha," + nsB + "/zeta"
	if !strings.Contains(joined, want) {
		t.Errorf("order %s, want %s within it", joined, want)
	}
}

func TestExportErrors(t *testing.T) {
	ns := env.Namespace(t)
	create(t, gitRepository(ns, "app", nil, ""))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "gitrepo"}, "give the gitrepository's name, or --all"},
		{[]string{"export", "gitrepo", "app", "--all"}, "a name or --all, not both"},
		{[]string{"export", "gitrepo", "app", "-A"}, "-A exports from every namespace"},
		{[]string{"export", "deployment", "web"}, `unknown kind "deployment"`},
		{[]string{"export", "gitrepo", "ap"}, "did you mean app?"},
	} {
		code, _, errOut := weir(t, append(tc.args, "-n", ns)...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: code %d, %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
	code, out, errOut := weir(t, "export", "ks", "--all", "-n", ns)
	if code != 0 || out != "" || !strings.Contains(errOut, "no ks in namespace "+ns) {
		t.Errorf("nothing to export: code %d, %q, %q", code, out, errOut)
	}
}
