package controller

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/testenv"
)

// Objects that Flux's kustomize-controller applied are simulated as it applies them: server-side
// apply with field manager kustomize-controller (forcing ownership), and its ownership labels
// kustomize.toolkit.fluxcd.io/name and /namespace added to metadata.labels only.

const adoptWeb = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.invalid/web:1.0
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
`

const adoptSettings = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  value: "1"
  legacy: "x"
`

// fluxApply applies the objects of manifests in ns as Flux's Kustomization flux-system/name
// does.
func fluxApply(t *testing.T, ns, name, manifests string) {
	t.Helper()
	dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(manifests), 4096)
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		u.SetNamespace(ns)
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels["kustomize.toolkit.fluxcd.io/name"] = name
		labels["kustomize.toolkit.fluxcd.io/namespace"] = "flux-system"
		u.SetLabels(labels)
		if err := env.Client.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(u),
			client.FieldOwner("kustomize-controller"), client.ForceOwnership); err != nil {
			t.Fatalf("applying %s/%s as Flux does: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

// adoptLive is what the test follows of the cluster's objects.
type adoptLive struct {
	web      appsv1.Deployment
	svc      corev1.Service
	settings corev1.ConfigMap
	orphan   corev1.ConfigMap
}

func getAdoptLive(t *testing.T, ns string) adoptLive {
	t.Helper()
	var l adoptLive
	for _, o := range []struct {
		name string
		obj  client.Object
	}{{"web", &l.web}, {"web", &l.svc}, {"settings", &l.settings}, {"orphan", &l.orphan}} {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: o.name}, o.obj); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// applyManagers lists "manager/operation" of the Apply entries of o's managed fields.
func applyManagers(o client.Object) []string {
	var out []string
	for _, m := range o.GetManagedFields() {
		if m.Operation == metav1.ManagedFieldsOperationApply {
			out = append(out, m.Manager+"/"+string(m.Operation))
		}
	}
	return out
}

// TestAdoptFluxObjects: a Kustomization migrated from Flux (same source path, same objects)
// adopts what Flux's Kustomization applied without re-creating or rolling anything: the
// objects keep their UIDs, the Deployment its generation and pod template, and Weir's
// inventory lists them. Weir applies with the field manager Flux used (kustomize-controller),
// so the fields Flux owned become Weir's with no conflict and no second owner: Flux's
// ownership labels, which Weir no longer applies, are removed by the apply, and a field a later
// revision drops is removed too. An object Flux applied that the repository no longer has
// is not in Weir's inventory and is left alone.
func TestAdoptFluxObjects(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	fluxApply(t, ns, "apps", adoptWeb+"---\n"+adoptSettings+"---\n"+configMap("orphan", "flux"))
	before := getAdoptLive(t, ns)

	publish(t, ns, "repo", "main@sha1:1", map[string]string{"apps/web.yaml": adoptWeb, "apps/settings.yaml": adoptSettings})
	ks := createKustomization(t, ns, "apps", "./apps", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, ks, "main@sha1:1")
	now := getAdoptLive(t, ns)

	for _, o := range []struct {
		what     string
		was, now client.Object
	}{{"Deployment", &before.web, &now.web}, {"Service", &before.svc, &now.svc}, {"ConfigMap", &before.settings, &now.settings}} {
		if o.was.GetUID() != o.now.GetUID() {
			t.Errorf("%s was re-created: UID %s, was %s", o.what, o.now.GetUID(), o.was.GetUID())
		}
		if o.was.GetGeneration() != o.now.GetGeneration() {
			t.Errorf("%s generation %d, was %d", o.what, o.now.GetGeneration(), o.was.GetGeneration())
		}
		l := o.now.GetLabels()
		if l["kustomize.weir.dev/name"] != "apps" || l["kustomize.weir.dev/namespace"] != ns {
			t.Errorf("%s lacks Weir's ownership labels: %v", o.what, l)
		}
		if _, ok := l["kustomize.toolkit.fluxcd.io/name"]; ok {
			t.Errorf("%s keeps Flux's ownership label, which Weir's apply (as the same field manager) should have dropped: %v", o.what, l)
		}
		if got := applyManagers(o.now); fmt.Sprint(got) != "[kustomize-controller/Apply]" {
			t.Errorf("%s has apply managers %v, want one: kustomize-controller", o.what, got)
		}
	}
	if !equality.Semantic.DeepEqual(before.web.Spec.Template, now.web.Spec.Template) {
		t.Errorf("the Deployment's pod template changed (a rollout):\nwas %+v\nis  %+v", before.web.Spec.Template, now.web.Spec.Template)
	}
	wantInv := fmt.Sprintf("%[1]s_settings__ConfigMap %[1]s_web__Service %[1]s_web_apps_Deployment", ns)
	if got := inventoryIDs(ks); got != wantInv {
		t.Errorf("inventory %s, want %s", got, wantInv)
	}
	if now.orphan.UID != before.orphan.UID || now.orphan.ResourceVersion != before.orphan.ResourceVersion {
		t.Errorf("the object Flux applied that the repository no longer has was touched: %+v", now.orphan.ObjectMeta)
	}

	// The next revision drops a field Flux had applied and the Service: the field goes (Weir
	// owns it now), the Service is pruned (Weir's inventory holds it); the Deployment, not
	// changed, is not written to.
	publish(t, ns, "repo", "main@sha1:2", map[string]string{
		"apps/web.yaml": strings.SplitN(adoptWeb, "---\n", 2)[0], "apps/settings.yaml": strings.ReplaceAll(adoptSettings, "  legacy: \"x\"\n", ""),
	})
	waitApplied(t, ks, "main@sha1:2")
	testenv.Eventually(t, timeout, func() error {
		var svc corev1.Service
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, &svc); err == nil {
			return fmt.Errorf("Service web not pruned")
		}
		return nil
	})
	var settings corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "settings"}, &settings); err != nil {
		t.Fatal(err)
	}
	if _, ok := settings.Data["legacy"]; ok || settings.Data["value"] != "1" || settings.UID != before.settings.UID {
		t.Errorf("ConfigMap settings after revision 2: data %v, UID %s (was %s)", settings.Data, settings.UID, before.settings.UID)
	}
	var web appsv1.Deployment
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, &web); err != nil {
		t.Fatal(err)
	}
	if web.ResourceVersion != now.web.ResourceVersion {
		t.Errorf("Deployment web was written to although it did not change (resourceVersion %s, was %s)", web.ResourceVersion, now.web.ResourceVersion)
	}
	if got := configMapValue(t, ns, "orphan"); got != "flux" {
		t.Errorf("ConfigMap orphan %q, want it left as Flux applied it", got)
	}
}

// inventoryIDs is the IDs of ks's inventory, space-separated.
func inventoryIDs(ks *kustomizev1.Kustomization) string {
	if ks.Status.Inventory == nil {
		return ""
	}
	var b bytes.Buffer
	for i, e := range ks.Status.Inventory.Entries {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.ID)
	}
	return b.String()
}
