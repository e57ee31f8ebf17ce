package local

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/install"
)

// Containers runs Weir's controllers as containers, as a cluster runs them: the images, and
// the arguments, environment, user, read-only root and emptyDir volumes of the Deployments in
// Manifests, each with a token of its own ServiceAccount, so that the RBAC of the manifests is
// exactly what each controller may do.
//
// What differs from a cluster, which has a kubelet, Services and DNS where this has none:
// podman (with runc) runs the containers on the host network; every address flag
// (--metrics-addr, --health-addr, --storage-addr, --storage-adv-addr, --artifact-host,
// --events-addr, --events-listen-addr, --receiver-addr) is replaced by a 127.0.0.1 port, and
// notification-controller may notify 127.0.0.1 (--allow-internal-addresses); the
// API server is reached at its 127.0.0.1 address through KUBERNETES_SERVICE_HOST and _PORT;
// emptyDir volumes are tmpfs mounts; CPU and memory limits are not enforced (GOMEMLIMIT is
// still set from the memory limit). The Deployments themselves are applied too, and their
// Pods are simulated by kwok when it runs; the containers are what reconciles.
type Containers struct {
	// Manifests is what `weir install --export` prints: CRDs, namespace, RBAC, Deployments.
	Manifests []byte
	// Insecure pulls the images over plain HTTP, e.g. from a registry on 127.0.0.1.
	Insecure bool
	// Podman is the podman command; "podman" when empty.
	Podman string
}

// addressFlags are the Deployments' flags that name an address; they are replaced.
var addressFlags = []string{"--metrics-addr", "--health-addr", "--storage-addr", "--storage-adv-addr",
	"--artifact-host", "--events-addr", "--events-listen-addr", "--receiver-addr"}

// startContainers applies the install's manifests, pulls its images and starts the four
// controllers as containers, then waits until each answers /readyz.
func (e *Env) startContainers(ctx context.Context) error {
	opts := e.opts.Containers
	podman := opts.Podman
	if podman == "" {
		podman = "podman"
	}
	if _, err := exec.LookPath(podman); err != nil {
		return fmt.Errorf("running the controllers as containers needs podman and runc (Debian: apt-get install podman runc; `make test` installs them): %w", err)
	}
	objs, err := install.Decode(opts.Manifests)
	if err != nil {
		return err
	}
	if err := e.applyManifests(ctx, objs); err != nil {
		return err
	}
	deployments := map[string]*appsv1.Deployment{}
	for _, u := range objs {
		if u.GetKind() != "Deployment" {
			continue
		}
		d := &appsv1.Deployment{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, d); err != nil {
			return fmt.Errorf("Deployment %s: %w", u.GetName(), err)
		}
		deployments[d.Name] = d
	}
	api, err := url.Parse(e.APIServer)
	if err != nil {
		return err
	}
	w, err := newWiring()
	if err != nil {
		return err
	}
	e.receiverAddr = w.receiver
	for _, name := range controllerNames {
		d := deployments[name]
		if d == nil || len(d.Spec.Template.Spec.Containers) == 0 {
			return fmt.Errorf("the install manifests have no Deployment %s", name)
		}
		image := d.Spec.Template.Spec.Containers[0].Image
		start := time.Now()
		pull := []string{"pull", "--quiet"}
		if opts.Insecure {
			pull = append(pull, "--tls-verify=false")
		}
		if out, err := exec.CommandContext(ctx, podman, append(pull, image)...).CombinedOutput(); err != nil {
			return fmt.Errorf("podman pull %s: %w: %s", image, err, strings.TrimSpace(string(out)))
		}
		e.printf("  ✓ pulled %s (%s)\n", image, since(start))
		health, metrics, err := probeAddrs()
		if err != nil {
			return err
		}
		c := &Controller{Name: name, HealthAddr: health, MetricsAddr: metrics, Serves: w.serves(name),
			LogPath: filepath.Join(e.Dir, name+".log")}
		container := "weir-" + name + "-" + utilrand.String(6)
		args, err := e.containerArgs(ctx, d, container, api.Hostname(), api.Port())
		if err != nil {
			return err
		}
		args = append(args, "--health-addr="+health, "--metrics-addr="+metrics)
		args = append(args, w.args(name)...)
		c.afterStop = func() { _ = exec.Command(podman, "rm", "--force", "--ignore", container).Run() }
		if err := c.start(podman, args, e.exited); err != nil {
			return err
		}
		e.Controllers = append(e.Controllers, c)
	}
	return e.waitControllers(ctx)
}

// applyManifests applies objs with server-side apply, CRDs first.
func (e *Env) applyManifests(ctx context.Context, objs []*unstructured.Unstructured) error {
	for _, crdsFirst := range []bool{true, false} {
		for _, u := range objs {
			if install.IsCRD(u) != crdsFirst {
				continue
			}
			err := e.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner("weir"), client.ForceOwnership)
			if err != nil {
				return fmt.Errorf("applying %s %s: %w", u.GetKind(), u.GetName(), err)
			}
		}
	}
	e.printf("  ✓ applied the install's %d objects\n", len(objs))
	return nil
}

// containerArgs returns the podman run arguments of d's first container, up to and including
// its own arguments, less the address flags.
func (e *Env) containerArgs(ctx context.Context, d *appsv1.Deployment, name, apiHost, apiPort string) ([]string, error) {
	spec := d.Spec.Template.Spec
	ctr := spec.Containers[0]
	sa, err := e.serviceAccountDir(ctx, d.Namespace, spec.ServiceAccountName, d.Name)
	if err != nil {
		return nil, err
	}
	args := []string{"run", "--rm", "--name", name, "--pull", "never",
		"--runtime", "runc", "--network", "host",
		// podman's default limits exceed this host's hard limits.
		"--ulimit", "nofile=20000:20000", "--ulimit", "nproc=1000:1000",
		"--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--volume", sa + ":/var/run/secrets/kubernetes.io/serviceaccount:ro",
		"--env", "KUBERNETES_SERVICE_HOST=" + apiHost, "--env", "KUBERNETES_SERVICE_PORT=" + apiPort,
	}
	user, err := runAs(spec.SecurityContext, ctr.SecurityContext)
	if err != nil {
		return nil, fmt.Errorf("Deployment %s: %w", d.Name, err)
	}
	args = append(args, "--user", user)
	if sc := ctr.SecurityContext; sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		// Only the Deployment's volumes are writable, not podman's default tmpfs mounts.
		args = append(args, "--read-only", "--read-only-tmpfs=false")
	}
	for _, vm := range ctr.VolumeMounts {
		var vol *corev1.Volume
		for i := range spec.Volumes {
			if spec.Volumes[i].Name == vm.Name {
				vol = &spec.Volumes[i]
			}
		}
		if vol == nil || vol.EmptyDir == nil {
			return nil, fmt.Errorf("Deployment %s: volume %s is not an emptyDir, which is all the local mode mounts", d.Name, vm.Name)
		}
		args = append(args, "--tmpfs", vm.MountPath+":rw,mode=1777")
	}
	env := map[string]string{}
	for _, ev := range ctr.Env {
		value, err := envValue(d, &ctr, ev, env)
		if err != nil {
			return nil, fmt.Errorf("Deployment %s: env %s: %w", d.Name, ev.Name, err)
		}
		env[ev.Name] = value
		args = append(args, "--env", ev.Name+"="+value)
	}
	if len(ctr.Command) > 0 {
		args = append(args, "--entrypoint", ctr.Command[0])
	}
	args = append(args, ctr.Image)
	if len(ctr.Command) > 1 {
		args = append(args, expandAll(ctr.Command[1:], env)...)
	}
	for _, a := range expandAll(ctr.Args, env) {
		if !isAddressFlag(a) {
			args = append(args, a)
		}
	}
	return args, nil
}

// serviceAccountDir writes, as the kubelet projects them, a token of ServiceAccount
// namespace/name, the API server's CA and the namespace, into a directory of its own, and
// returns it.
func (e *Env) serviceAccountDir(ctx context.Context, namespace, name, controller string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("Deployment %s names no ServiceAccount", controller)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	expiry := int64((24 * time.Hour).Seconds())
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}
	if err := e.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", fmt.Errorf("a token for ServiceAccount %s/%s: %w", namespace, name, err)
	}
	dir := filepath.Join(e.Dir, "serviceaccounts", controller)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	files := map[string][]byte{"token": []byte(tr.Status.Token), "ca.crt": e.env.Config.CAData, "namespace": []byte(namespace)}
	for f, b := range files {
		// Readable by the container's user; the directory is this Env's own.
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// runAs returns uid:gid from the container's, else the Pod's, security context; a restricted
// Deployment always sets them.
func runAs(pod *corev1.PodSecurityContext, ctr *corev1.SecurityContext) (string, error) {
	var uid, gid *int64
	if pod != nil {
		uid, gid = pod.RunAsUser, pod.RunAsGroup
	}
	if ctr != nil {
		if ctr.RunAsUser != nil {
			uid = ctr.RunAsUser
		}
		if ctr.RunAsGroup != nil {
			gid = ctr.RunAsGroup
		}
	}
	if uid == nil {
		return "", fmt.Errorf("no runAsUser")
	}
	if gid == nil {
		gid = uid
	}
	return fmt.Sprintf("%d:%d", *uid, *gid), nil
}

// envValue returns ev's value as the kubelet computes it, for the sources Weir's Deployments use.
func envValue(d *appsv1.Deployment, ctr *corev1.Container, ev corev1.EnvVar, env map[string]string) (string, error) {
	switch {
	case ev.ValueFrom == nil:
		return expand(ev.Value, env), nil
	case ev.ValueFrom.FieldRef != nil && ev.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
		return d.Namespace, nil
	case ev.ValueFrom.ResourceFieldRef != nil && ev.ValueFrom.ResourceFieldRef.Resource == "limits.memory":
		if q, ok := ctr.Resources.Limits[corev1.ResourceMemory]; ok {
			return fmt.Sprint(q.Value()), nil
		}
		return "", fmt.Errorf("no memory limit")
	}
	return "", fmt.Errorf("a source the local mode does not know")
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand replaces $(VAR) with env's VAR, leaving unknown references as they are (the kubelet's rule).
func expand(s string, env map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := env[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

func expandAll(in []string, env map[string]string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, env)
	}
	return out
}

func isAddressFlag(arg string) bool {
	flag, _, _ := strings.Cut(arg, "=")
	for _, f := range addressFlags {
		if flag == f {
			return true
		}
	}
	return false
}
