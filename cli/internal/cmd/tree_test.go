package cmd

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
)

func inventory(entries ...string) *meta.ResourceInventory {
	inv := &meta.ResourceInventory{}
	for i := 0; i < len(entries); i += 2 {
		inv.Entries = append(inv.Entries, meta.ResourceRef{ID: entries[i], Version: entries[i+1]})
	}
	return inv
}

func TestTree(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings"}}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	web := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	if err := env.Client.Create(ctx, web); err != nil {
		t.Fatal(err)
	}

	parent := kustomization(ns, "parent", "app", ready(metav1.ConditionTrue, meta.SucceededReason, "applied"), "main@sha1:abc")
	parent.Status.Inventory = inventory(
		ns+"_settings__ConfigMap", "v1",
		ns+"_web_apps_Deployment", "v1",
		ns+"_child_kustomize.weir.dev_Kustomization", "v1",
		ns+"_podinfo_helm.weir.dev_HelmRelease", "v1",
		ns+"_gone__Secret", "v1",
		ns+"_cert_cert-manager.io_Certificate", "v1",
	)
	create(t, parent)
	child := kustomization(ns, "child", "app", ready(metav1.ConditionTrue, meta.SucceededReason, "applied"), "main@sha1:abc")
	// The child lists its parent: tree must not loop.
	child.Status.Inventory = inventory(ns+"_settings__ConfigMap", "v1", ns+"_parent_kustomize.weir.dev_Kustomization", "v1")
	create(t, child)
	// Stalled makes Ready=False final: kstatus reports Failed rather than InProgress.
	hr := helmRelease(ns, "podinfo", "podinfo", append(ready(metav1.ConditionFalse, "InstallFailed", "timed out waiting"),
		metav1.Condition{Type: meta.StalledCondition, Status: metav1.ConditionTrue, Reason: "InstallFailed", Message: "timed out waiting", LastTransitionTime: metav1.Now()}))
	hr.Status.Inventory = inventory(ns+"_podinfo__Service", "v1")
	create(t, hr)

	code, out, errOut := weir(t, "tree", "ks", "parent", "-n", ns)
	if code != 0 {
		t.Fatalf("code %d, %q", code, errOut)
	}
	want := strings.Join([]string{
		"Kustomization/" + ns + "/parent Current",
		"├── ConfigMap/" + ns + "/settings Current",
		"├── Deployment/" + ns + "/web InProgress",
		"├── Kustomization/" + ns + "/child Current",
		"│   ├── ConfigMap/" + ns + "/settings Current",
		"│   └── Kustomization/" + ns + "/parent Current (already shown above)",
		"├── HelmRelease/" + ns + "/podinfo Failed: timed out waiting",
		"│   └── Service/" + ns + "/podinfo NotFound",
		"├── Secret/" + ns + "/gone NotFound",
		"└── Certificate/" + ns + "/cert NotFound: the cluster does not serve cert-manager.io/v1, Kind=Certificate",
	}, "\n")
	if got := stripMessages(out); got != want {
		t.Errorf("tree:\n%s\nwant (messages of InProgress cut):\n%s", out, want)
	}

	if code, out, _ := weir(t, "tree", "helmrelease", "podinfo", "-n", ns); code != 0 || !strings.Contains(out, "└── Service/"+ns+"/podinfo NotFound") {
		t.Errorf("tree of a HelmRelease: code %d\n%s", code, out)
	}
	if code, _, errOut := weir(t, "tree", "gitrepo", "app", "-n", ns); code != 1 || !strings.Contains(errOut, "tree shows a Kustomization, a HelmRelease, a ResourceSet or an ArtifactGenerator") {
		t.Errorf("tree of a source: code %d, %q", code, errOut)
	}
	if code, _, errOut := weir(t, "tree", "ks", "paren", "-n", ns); code != 1 || !strings.Contains(errOut, "did you mean parent?") {
		t.Errorf("tree of a missing object: code %d, %q", code, errOut)
	}
}

// stripMessages cuts the message after "InProgress", which kstatus words, and trims the output.
func stripMessages(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i, l := range lines {
		if j := strings.Index(l, "InProgress"); j >= 0 {
			lines[i] = l[:j+len("InProgress")]
		}
	}
	return strings.Join(lines, "\n")
}
