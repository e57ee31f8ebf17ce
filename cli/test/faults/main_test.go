package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/local"
	"weir.dev/cli/internal/local/localtest"
	"weir.dev/pkg/testenv"
)

var (
	// env is the local Weir every test of the package drives; the tests share its demo, so
	// they do not run in parallel.
	env *local.Env
	// proxy stands between the controllers and the API server; env.Client goes around it.
	proxy *testenv.FaultProxy
)

// The package's own objects in the demo: a Kustomization "faults" of the repository's faults/
// directory, and a HelmRelease "git-hello" of a chart in charts/hello, rebuilt at every commit.
const (
	faultsKustomization = "faults"
	gitHelmRelease      = "git-hello"
)

// Leader election as deploy/ turns it on for every controller; kustomize-controller's lease is
// short, so that a standby replica takes over within seconds of the leader's death.
var controllerArgs = map[string][]string{
	"source-controller":       {"--enable-leader-election"},
	"helm-controller":         {"--enable-leader-election"},
	"notification-controller": {"--enable-leader-election"},
	"kustomize-controller": {"--enable-leader-election", "--leader-election-lease-duration=8s",
		"--leader-election-renew-deadline=6s", "--leader-election-retry-period=1s"},
}

// retryInterval is the Kustomizations' spec.retryInterval: how soon a run that failed on an
// API server fault is retried.
const retryInterval = 15 * time.Second

// leaseNamespace holds the controllers' leader-election Leases (RUNTIME_NAMESPACE).
const leaseNamespace = "default"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// Bounds the whole package: the proxy stops when it ends, whatever the tests do.
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	// The controllers inherit it: their Leases go there.
	os.Setenv("RUNTIME_NAMESPACE", leaseNamespace)
	// envtest gives kube-apiserver 20s to start, too little on a loaded machine.
	if os.Getenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT") == "" {
		os.Setenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT", "2m")
	}

	var proxyOnce sync.Once
	var proxyErr error
	kubeconfig := func(name string, admin *rest.Config) ([]byte, error) {
		proxyOnce.Do(func() { proxy, proxyErr = testenv.StartFaultProxy(ctx, admin) })
		if proxyErr != nil {
			return nil, proxyErr
		}
		return proxy.Kubeconfig(name)
	}
	defer func() {
		if proxy != nil {
			proxy.Close()
		}
	}()
	opts := local.Options{Demo: true, ControllerKubeconfig: kubeconfig, ControllerArgs: controllerArgs}
	return localtest.Run(m, opts, &env, func(*local.Env) error {
		fmt.Printf("controllers behind the fault proxy %s\n", proxy.URL)
		return setupFixtures(ctx)
	})
}

// setupFixtures adds the package's directory and chart to the demo repository and the
// Kustomization and HelmRelease that apply them, and waits until both are Ready.
func setupFixtures(ctx context.Context) error {
	for path, content := range map[string]string{
		"faults/kustomization.yaml":        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
		"charts/hello/Chart.yaml":          "apiVersion: v2\nname: hello\nversion: 0.1.0\n",
		"charts/hello/values.yaml":         "message: Hello from a chart in Git\n",
		"charts/hello/templates/data.yaml": chartTemplate,
	} {
		if err := writeRepoFile(path, content); err != nil {
			return err
		}
	}
	revision, err := commitAndPushErr("Add the fault tests' directory and chart")
	if err != nil {
		return err
	}
	objects := []client.Object{
		&kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Namespace: local.DemoNamespace, Name: faultsKustomization},
			Spec: kustomizev1.KustomizationSpec{
				SourceRef:       kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "demo"},
				Path:            "./faults",
				Interval:        metav1.Duration{Duration: 5 * time.Minute},
				RetryInterval:   &metav1.Duration{Duration: retryInterval},
				Timeout:         &metav1.Duration{Duration: time.Minute},
				Prune:           true,
				AllowEmptyPrune: true,
				TargetNamespace: local.DemoNamespace,
			},
		},
		&helmv1.HelmRelease{
			ObjectMeta: metav1.ObjectMeta{Namespace: local.DemoNamespace, Name: gitHelmRelease},
			Spec: helmv1.HelmReleaseSpec{
				Interval: metav1.Duration{Duration: 5 * time.Minute},
				Chart: &helmv1.HelmChartTemplate{Spec: helmv1.HelmChartTemplateSpec{
					Chart:             "./charts/hello",
					ReconcileStrategy: sourcev1.ReconcileStrategyRevision,
					SourceRef:         helmv1.CrossNamespaceObjectReference{Kind: sourcev1.GitRepositoryKind, Name: "demo"},
				}},
			},
		},
	}
	repo := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: local.DemoNamespace, Name: "demo"}}
	if err := requestReconcileErr(ctx, repo); err != nil {
		return err
	}
	// Created before the artifact has faults/, the Kustomization would fail its first run.
	for deadline := time.Now().Add(time.Minute); repo.Status.Artifact == nil || repo.Status.Artifact.Revision != revision; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("GitRepository demo did not fetch %s within 1m", revision)
		}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(repo), repo); err != nil {
			return err
		}
	}
	for _, o := range objects {
		if err := env.Client.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	// A Kustomization retries a failed run after spec.retryInterval, spec.interval (5m for the
	// demo's) when empty: the demo's get the short one a user wanting quick recovery sets.
	for _, name := range env.Demo.Kustomizations {
		ks := &kustomizev1.Kustomization{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: local.DemoNamespace, Name: name}, ks); err != nil {
			return err
		}
		patch := client.MergeFrom(ks.DeepCopy())
		ks.Spec.RetryInterval = &metav1.Duration{Duration: retryInterval}
		if err := env.Client.Patch(ctx, ks, patch); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		errK := readyErr(ctx, &kustomizev1.Kustomization{}, faultsKustomization)
		errH := readyErr(ctx, &helmv1.HelmRelease{}, gitHelmRelease)
		if errK == nil && errH == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within 3m: Kustomization %s: %v; HelmRelease %s: %v", faultsKustomization, errK, gitHelmRelease, errH)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// chartTemplate is the Git chart's one object: a ConfigMap saying .Values.message.
const chartTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  message: {{ .Values.message | quote }}
`

// gitErr runs git in the demo's working copy with the demo's identity and returns its output.
func gitErr(args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = env.Demo.WorkDir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Weir faults", "GIT_AUTHOR_EMAIL=faults@weir.dev",
		"GIT_COMMITTER_NAME=Weir faults", "GIT_COMMITTER_EMAIL=faults@weir.dev",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// writeRepoFile writes content to path inside the demo's working copy.
func writeRepoFile(path, content string) error {
	full := filepath.Join(env.Demo.WorkDir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, []byte(content), 0o644)
}

// commitAndPushErr commits every change of the working copy, pushes it and returns the
// revision source-controller gives the commit.
func commitAndPushErr(message string) (string, error) {
	for _, args := range [][]string{{"add", "--all"}, {"commit", "--quiet", "--message", message}, {"push", "--quiet", "origin", "main"}} {
		if _, err := gitErr(args...); err != nil {
			return "", err
		}
	}
	head, err := gitErr("rev-parse", "HEAD")
	return "main@sha1:" + head, err
}

// requestReconcileErr asks for an immediate reconcile of o, as `weir reconcile` does, through
// the administrator's direct client.
func requestReconcileErr(ctx context.Context, o client.Object) error {
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
		return err
	}
	patch := client.MergeFrom(o.DeepCopyObject().(client.Object))
	ann := o.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[meta.ReconcileRequestAnnotation] = time.Now().Format(time.RFC3339Nano)
	o.SetAnnotations(ann)
	return env.Client.Patch(ctx, o, patch)
}
