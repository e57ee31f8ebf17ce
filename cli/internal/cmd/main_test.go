package cmd

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
)

// env is the package's control plane with Weir's CRDs; no controller runs in it.
var env *testenv.Environment

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// weir runs the command against env and returns its exit code, stdout and stderr.
func weir(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Execute(append([]string{"--kubeconfig", env.KubeconfigPath}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// create creates obj, then sets its status to the status obj was given, as a controller would.
func create(t *testing.T, obj client.Object) { env.CreateWithStatus(t, obj) }

// ready returns a Ready condition of status with reason and message, observed at generation 1.
func ready(status metav1.ConditionStatus, reason, message string) []metav1.Condition {
	return []metav1.Condition{{
		Type: meta.ReadyCondition, Status: status, Reason: reason, Message: message,
		ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(time.Now()),
	}}
}

func gitRepository(ns, name string, conds []metav1.Condition, revision string) *sourcev1.GitRepository {
	r := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       sourcev1.GitRepositorySpec{URL: "https://example.com/repo.git", Interval: metav1.Duration{Duration: time.Minute}},
	}
	r.Status.Conditions = conds
	r.Status.ObservedGeneration = 1
	if revision != "" {
		r.Status.Artifact = &meta.Artifact{Path: "a.tar.gz", URL: "http://x/a.tar.gz", Revision: revision, LastUpdateTime: metav1.Now()}
	}
	return r
}

func kustomization(ns, name, source string, conds []metav1.Condition, revision string) *kustomizev1.Kustomization {
	k := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: source},
			Interval:  metav1.Duration{Duration: time.Minute},
			Prune:     true,
		},
	}
	k.Status.Conditions = conds
	k.Status.ObservedGeneration = 1
	k.Status.LastAppliedRevision = revision
	return k
}

func helmRelease(ns, name, chart string, conds []metav1.Condition) *helmv1.HelmRelease {
	h := &helmv1.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: helmv1.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: time.Minute},
			ChartRef: &helmv1.CrossNamespaceSourceReference{Kind: "HelmChart", Name: chart},
		},
	}
	h.Status.Conditions = conds
	h.Status.ObservedGeneration = 1
	return h
}

// errorf is fmt.Errorf, for Eventually's conditions.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// runtimeToMap converts a typed value into its unstructured form.
func runtimeToMap(v any) (map[string]any, error) {
	return runtime.DefaultUnstructuredConverter.ToUnstructured(v)
}
