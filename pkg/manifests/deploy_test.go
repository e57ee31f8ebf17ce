package manifests_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const (
	deployNamespace = "weir-system"
	deployOwner     = client.FieldOwner("weir-deploy-test")
)

var deployControllers = []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller"}

// buildDeploy builds deploy/ the way `kubectl apply -k deploy/` does and returns its objects.
func buildDeploy(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(env.RepoRoot, "deploy"))
	if err != nil {
		t.Fatalf("kustomize build deploy/: %v", err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range m.Resources() {
		// Through JSON, so numbers are int64 as in any object read from the API server.
		b, err := r.MarshalJSON()
		if err != nil {
			t.Fatalf("%s: %v", r.CurId(), err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(b); err != nil {
			t.Fatalf("%s: %v", r.CurId(), err)
		}
		objs = append(objs, u)
	}
	return objs
}

// deployTyped returns the objects of deploy/ of one kind, converted to their Go type.
func deployTyped[T any](t *testing.T, objs []*unstructured.Unstructured, kind string) map[string]*T {
	t.Helper()
	out := map[string]*T{}
	for _, u := range objs {
		if u.GetKind() != kind {
			continue
		}
		v := new(T)
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, v, true); err != nil {
			t.Fatalf("%s %s: %v", kind, u.GetName(), err)
		}
		out[u.GetName()] = v
	}
	return out
}

// warningRecorder records the warnings the API server returns, for one request at a time.
type warningRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (w *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.seen
	w.seen = nil
	return out
}

// TestDeployAppliesToTheAPIServer: every object of deploy/ passes a server-side apply (dry run)
// without error or warning. weir-system enforces and warns on the restricted Pod Security
// profile, so a Deployment that would not pass it draws a warning here.
func TestDeployAppliesToTheAPIServer(t *testing.T) {
	objs := buildDeploy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	w := &warningRecorder{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandler = nil
	cfg.WarningHandlerWithContext = w
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	apply := func(u *unstructured.Unstructured, opts ...client.ApplyOption) error {
		opts = append(opts, deployOwner, client.ForceOwnership)
		return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), opts...)
	}

	// Namespaced objects are dry-run into weir-system, so it must exist for real (with its
	// Pod Security labels, which the Deployments are checked against).
	var sawNamespace bool
	for _, u := range objs {
		if u.GetKind() == "Namespace" && u.GetName() == deployNamespace {
			sawNamespace = true
			if err := apply(u); err != nil {
				t.Fatalf("applying Namespace %s: %v", deployNamespace, err)
			}
		}
	}
	if !sawNamespace {
		t.Fatalf("deploy/ has no Namespace %s", deployNamespace)
	}
	w.take()

	for _, u := range objs {
		id := fmt.Sprintf("%s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
		if err := apply(u, client.DryRunAll); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		for _, text := range w.take() {
			t.Errorf("%s: the API server warns: %s", id, text)
		}
	}

	// The check above relies on the namespace's warn label: prove that a Deployment breaking
	// the profile does draw a warning.
	for _, u := range objs {
		if u.GetKind() != "Deployment" {
			continue
		}
		bad := u.DeepCopy()
		containers, _, _ := unstructured.NestedSlice(bad.Object, "spec", "template", "spec", "containers")
		first := containers[0].(map[string]any)
		first["securityContext"] = map[string]any{"allowPrivilegeEscalation": true}
		if err := unstructured.SetNestedSlice(bad.Object, containers, "spec", "template", "spec", "containers"); err != nil {
			t.Fatal(err)
		}
		if err := apply(bad, client.DryRunAll); err != nil {
			t.Fatalf("dry-run of a privileged copy of %s: %v", u.GetName(), err)
		}
		if got := strings.Join(w.take(), "\n"); !strings.Contains(got, "PodSecurity") {
			t.Errorf("a privileged copy of Deployment %s drew no PodSecurity warning (got %q): is %s labelled for the restricted profile?", u.GetName(), got, deployNamespace)
		}
		break
	}
}

// TestDeployDeploymentsAreRestricted: each controller runs as one replica that passes the
// restricted Pod Security profile, with resources, probes, ports and common flags as
// docs/architecture.md states, from an image that names no registry host.
func TestDeployDeploymentsAreRestricted(t *testing.T) {
	objs := buildDeploy(t)
	deployments := deployTyped[appsv1.Deployment](t, objs, "Deployment")
	serviceAccounts := deployTyped[corev1.ServiceAccount](t, objs, "ServiceAccount")
	if len(deployments) != len(deployControllers) {
		t.Errorf("deploy/ has %d Deployments, want %d (%v)", len(deployments), len(deployControllers), deployControllers)
	}
	for _, name := range deployControllers {
		t.Run(name, func(t *testing.T) {
			d, ok := deployments[name]
			if !ok {
				t.Fatalf("no Deployment %s", name)
			}
			if d.Namespace != deployNamespace {
				t.Errorf("namespace %q, want %s", d.Namespace, deployNamespace)
			}
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
				t.Errorf("replicas %v, want 1 (leader election makes more pointless)", d.Spec.Replicas)
			}
			pod := d.Spec.Template.Spec
			if _, ok := serviceAccounts[pod.ServiceAccountName]; !ok || pod.ServiceAccountName != name {
				t.Errorf("serviceAccountName %q: want %q, defined in deploy/", pod.ServiceAccountName, name)
			}
			if pod.AutomountServiceAccountToken == nil || !*pod.AutomountServiceAccountToken {
				t.Errorf("automountServiceAccountToken must be true: the controller talks to the API server")
			}
			if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds != 10 {
				t.Errorf("terminationGracePeriodSeconds %v, want 10", pod.TerminationGracePeriodSeconds)
			}
			if pod.HostNetwork || pod.HostPID || pod.HostIPC {
				t.Errorf("uses a host namespace")
			}
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(pod.Containers))
			}
			checkRestricted(t, pod.SecurityContext, pod.Containers[0].SecurityContext)
			checkContainer(t, name, pod)
		})
	}
}

// checkRestricted fails unless the pod- and container-level security contexts together meet
// the restricted Pod Security profile and run as 65532.
func checkRestricted(t *testing.T, psc *corev1.PodSecurityContext, csc *corev1.SecurityContext) {
	t.Helper()
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if csc == nil {
		t.Fatalf("container has no securityContext")
	}
	isTrue := func(c, p *bool) bool {
		if c != nil {
			return *c
		}
		return p != nil && *p
	}
	if !isTrue(csc.RunAsNonRoot, psc.RunAsNonRoot) {
		t.Errorf("runAsNonRoot is not true")
	}
	uid := psc.RunAsUser
	if csc.RunAsUser != nil {
		uid = csc.RunAsUser
	}
	if uid == nil || *uid != 65532 {
		t.Errorf("runAsUser %v, want 65532", uid)
	}
	if csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		t.Errorf("readOnlyRootFilesystem is not true")
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Errorf("allowPrivilegeEscalation is not false")
	}
	if csc.Privileged != nil && *csc.Privileged {
		t.Errorf("privileged")
	}
	if csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") || len(csc.Capabilities.Add) > 0 {
		t.Errorf("capabilities %+v: want drop [ALL] and nothing added", csc.Capabilities)
	}
	seccomp := psc.SeccompProfile
	if csc.SeccompProfile != nil {
		seccomp = csc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("seccompProfile %+v, want RuntimeDefault", seccomp)
	}
}

// checkContainer checks the controller's container: image, flags, resources, ports, probes
// and a writable /tmp.
func checkContainer(t *testing.T, name string, pod corev1.PodSpec) {
	t.Helper()
	c := pod.Containers[0]

	// The repository's default image names no registry host; users set theirs in one place.
	if want := "weir/" + name + ":"; !strings.HasPrefix(c.Image, want) {
		t.Errorf("image %q, want %s<tag> (set by images: in deploy/kustomization.yaml)", c.Image, want)
	}

	want := []string{"--enable-leader-election", "--log-encoding=json", "--metrics-addr=:8080", "--health-addr=:9440"}
	if name != "notification-controller" {
		want = append(want, "--events-addr=http://notification-controller.$(RUNTIME_NAMESPACE).svc.cluster.local./")
	}
	if name == "source-controller" {
		want = append(want, "--storage-path=/data", "--storage-addr=:9090",
			"--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local.")
	}
	for _, arg := range want {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %v lack %s", c.Args, arg)
		}
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "RUNTIME_NAMESPACE" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
			e.ValueFrom.FieldRef.FieldPath == "metadata.namespace"
	}) {
		t.Errorf("no RUNTIME_NAMESPACE from metadata.namespace")
	}

	for _, list := range []struct {
		what string
		rl   corev1.ResourceList
	}{{"requests", c.Resources.Requests}, {"limits", c.Resources.Limits}} {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := list.rl[r]; !ok || q.IsZero() {
				t.Errorf("resources.%s.%s not set", list.what, r)
			}
		}
	}

	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http-prom"] != 8080 || ports["healthz"] != 9440 {
		t.Errorf("ports %v: want http-prom 8080 and healthz 9440", ports)
	}
	for _, probe := range []struct {
		what, path string
		p          *corev1.Probe
	}{{"livenessProbe", "/healthz", c.LivenessProbe}, {"readinessProbe", "/readyz", c.ReadinessProbe}} {
		if probe.p == nil || probe.p.HTTPGet == nil {
			t.Errorf("%s: want an HTTP GET of %s", probe.what, probe.path)
			continue
		}
		g := probe.p.HTTPGet
		port := g.Port.IntVal
		if g.Port.Type == intstr.String {
			port = ports[g.Port.StrVal]
		}
		if g.Path != probe.path || port != 9440 {
			t.Errorf("%s: GET %s on port %d, want %s on 9440", probe.what, g.Path, port, probe.path)
		}
	}

	emptyDirs := map[string]bool{}
	for _, v := range pod.Volumes {
		emptyDirs[v.Name] = v.EmptyDir != nil
	}
	mounts := map[string]bool{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = emptyDirs[m.Name] && !m.ReadOnly
	}
	wantMounts := []string{"/tmp"}
	if name == "source-controller" {
		wantMounts = append(wantMounts, "/data")
	}
	for _, p := range wantMounts {
		if !mounts[p] {
			t.Errorf("no writable emptyDir at %s", p)
		}
	}
}

// TestDeployServicesReachTheirPods: each Service selects a controller's pods and targets a port
// that controller's container declares.
func TestDeployServicesReachTheirPods(t *testing.T) {
	objs := buildDeploy(t)
	deployments := deployTyped[appsv1.Deployment](t, objs, "Deployment")
	services := deployTyped[corev1.Service](t, objs, "Service")
	want := map[string]int32{ // Service -> container port
		"source-controller":       9090,
		"notification-controller": 9090,
		"webhook-receiver":        9292,
	}
	if len(services) != len(want) {
		t.Errorf("deploy/ has %d Services, want %d", len(services), len(want))
	}
	for name, port := range want {
		s, ok := services[name]
		if !ok {
			t.Errorf("no Service %s", name)
			continue
		}
		var target *appsv1.Deployment
		for _, d := range deployments {
			if len(s.Spec.Selector) > 0 && selectorMatches(s.Spec.Selector, d.Spec.Template.Labels) {
				target = d
			}
		}
		if target == nil {
			t.Errorf("Service %s selects no controller's pods", name)
			continue
		}
		if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Port != 80 {
			t.Errorf("Service %s ports %+v, want one port 80", name, s.Spec.Ports)
			continue
		}
		tp := s.Spec.Ports[0].TargetPort
		got := tp.IntVal
		for _, p := range target.Spec.Template.Spec.Containers[0].Ports {
			if tp.Type == intstr.String && p.Name == tp.StrVal {
				got = p.ContainerPort
			}
		}
		if got != port {
			t.Errorf("Service %s targets %s port %q (%d), want %d", name, target.Name, tp.String(), got, port)
		}
	}
}

func selectorMatches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestDeployReadOnlyControllersHaveNoWorkloadRights: source- and notification-controller never
// touch workloads or RBAC, have no wildcard, cannot impersonate, and only read Secrets; and
// nothing binds their ServiceAccounts to any other role.
func TestDeployReadOnlyControllersHaveNoWorkloadRights(t *testing.T) {
	objs := buildDeploy(t)
	roles := deployTyped[rbacv1.ClusterRole](t, objs, "ClusterRole")
	forbiddenGroups := []string{"apps", "batch", "extensions", "rbac.authorization.k8s.io"}
	forbiddenCore := []string{"pods", "replicationcontrollers", "nodes", "serviceaccounts/token"}
	for _, name := range []string{"source-controller", "notification-controller"} {
		t.Run(name, func(t *testing.T) {
			role, ok := roles[name]
			if !ok {
				t.Fatalf("no ClusterRole %s (generate deploy/%s/role.yaml)", name, name)
			}
			for i, r := range role.Rules {
				if slices.Contains(r.APIGroups, "*") || slices.Contains(r.Resources, "*") || slices.Contains(r.Verbs, "*") {
					t.Errorf("rule %d %+v: wildcard", i, r)
				}
				if len(r.NonResourceURLs) > 0 {
					t.Errorf("rule %d grants non-resource URLs %v", i, r.NonResourceURLs)
				}
				for _, v := range []string{"impersonate", "escalate", "bind"} {
					if slices.Contains(r.Verbs, v) {
						t.Errorf("rule %d %+v: grants %s", i, r, v)
					}
				}
				for _, g := range forbiddenGroups {
					if slices.Contains(r.APIGroups, g) {
						t.Errorf("rule %d %+v: grants on API group %q", i, r, g)
					}
				}
				if !slices.Contains(r.APIGroups, "") {
					continue
				}
				for _, res := range r.Resources {
					base, _, _ := strings.Cut(res, "/")
					if slices.Contains(forbiddenCore, res) || slices.Contains(forbiddenCore, base) {
						t.Errorf("rule %d %+v: grants on core %s", i, r, res)
					}
					if base == "secrets" && slices.ContainsFunc(r.Verbs, func(v string) bool {
						return !slices.Contains([]string{"get", "list", "watch"}, v)
					}) {
						t.Errorf("rule %d %+v: writes Secrets", i, r)
					}
				}
			}

			// Every binding of this controller's ServiceAccount must use its own roles.
			for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
				for _, u := range objs {
					if u.GetKind() != kind {
						continue
					}
					var b rbacv1.RoleBinding // a ClusterRoleBinding has the same fields
					if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &b); err != nil {
						t.Fatal(err)
					}
					if !slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool {
						return s.Kind == "ServiceAccount" && s.Name == name && s.Namespace == deployNamespace
					}) {
						continue
					}
					own := (b.RoleRef.Kind == "ClusterRole" && b.RoleRef.Name == name) ||
						(b.RoleRef.Kind == "Role" && b.RoleRef.Name == name+"-leader-election")
					if !own {
						t.Errorf("%s %s binds %s to %s %s", kind, u.GetName(), name, b.RoleRef.Kind, b.RoleRef.Name)
					}
				}
			}
		})
	}
}

// TestDeployListsEveryGeneratedCRD: deploy/crds/kustomization.yaml lists exactly the CRD files
// controller-gen wrote, so a new kind cannot be left out of the install.
func TestDeployListsEveryGeneratedCRD(t *testing.T) {
	dir := filepath.Join(env.RepoRoot, "deploy", "crds")
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatalf("deploy/crds/kustomization.yaml: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var generated []string
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" {
			generated = append(generated, base)
		}
	}
	for _, f := range generated {
		if !slices.Contains(k.Resources, f) {
			t.Errorf("deploy/crds/%s is not listed in deploy/crds/kustomization.yaml", f)
		}
	}
	for _, f := range k.Resources {
		if !slices.Contains(generated, f) {
			t.Errorf("deploy/crds/kustomization.yaml lists %s, which does not exist", f)
		}
	}
	if len(generated) == 0 {
		t.Errorf("no generated CRDs in deploy/crds")
	}
}
