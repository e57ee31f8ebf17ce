package build

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
)

// manyConfigMaps is one file of n small ConfigMaps: at 40,000 it is about 3 MB, and kustomize,
// whose work grows with the square of the objects, would build it for hours.
func manyConfigMaps(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  a: b\n", i)
	}
	return b.String()
}

// longPatchedList is a Deployment with an n-item env list and a strategic merge patch of as
// many items: kustomize merges them in time that grows faster than n (1,000 take about 18 s at a
// load of 34 on two cores, 2,000 take 56 s), without reading a file meanwhile.
func longPatchedList(n int) map[string]string {
	var env strings.Builder
	for i := range n {
		fmt.Fprintf(&env, "        - {name: E%d, value: v}\n", i)
	}
	head := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n"
	return map[string]string{
		"slow/deploy.yaml":        head + "        image: nginx\n        env:\n" + env.String(),
		"slow/patch.yaml":         head + "        env:\n" + strings.ReplaceAll(env.String(), "value: v", "value: w"),
		"slow/kustomization.yaml": "resources: [deploy.yaml]\npatches: [{path: patch.yaml}]\n",
	}
}

func named(name, path string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "tenant"},
		Spec:       kustomizev1.KustomizationSpec{Path: path, TargetNamespace: "tenant"},
	}
}

// buildSmallMeanwhile builds a small unit while slow runs, and returns how long it took.
func buildSmallMeanwhile(t *testing.T, root string, slow func()) time.Duration {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(slow)
	time.Sleep(200 * time.Millisecond) // let the slow build take the lock first
	start := time.Now()
	objs, err := Build(context.Background(), root, named("small", "./small"), Options{MaxObjects: 5000, Guarded: true})
	took := time.Since(start)
	if err != nil || len(objs) != 1 {
		t.Errorf("small build: %d objects, %v", len(objs), err)
	}
	wg.Wait()
	return took
}

func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	var be *Error
	if !errors.As(err, &be) || be.Reason != reason {
		t.Fatalf("error %v, want reason %s", err, reason)
	}
}

func TestBuildRefusesTooManyObjectsBeforeKustomizeWorks(t *testing.T) {
	root := tree(t, map[string]string{"big/cms.yaml": manyConfigMaps(40_000), "small/cm.yaml": configMap})
	var err error
	var took time.Duration
	small := buildSmallMeanwhile(t, root, func() {
		start := time.Now()
		// Kustomize would build this for hours: with a timeout of two minutes, a refusal that
		// waited for it would say BuildTimeout instead of TooManyObjects.
		_, err = Build(context.Background(), root, named("big", "./big"), Options{MaxObjects: 5000, Guarded: true, Timeout: 2 * time.Minute})
		took = time.Since(start)
	})
	t.Logf("3 MB file of 40,000 objects refused in %s; a small build meanwhile took %s", took, small)
	wantReason(t, err, kustomizev1.TooManyObjectsReason)
	if msg := err.Error(); !strings.Contains(msg, "big/cms.yaml") || !strings.Contains(msg, "5000") || !strings.Contains(msg, "--max-objects-per-unit") {
		t.Errorf("message %q should name the file, the cap and the flag", msg)
	}
}

func TestBuildCountsObjectsBuilt(t *testing.T) {
	root := tree(t, map[string]string{"big/cms.yaml": manyConfigMaps(30)})
	_, err := Build(context.Background(), root, named("big", "./big"), Options{MaxObjects: 20, Guarded: true})
	wantReason(t, err, kustomizev1.TooManyObjectsReason)
	if want := "the build yields 30 objects, more than the 20 allowed per Kustomization (kustomize-controller --max-objects-per-unit)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if _, err := Build(context.Background(), root, named("big", "./big"), Options{MaxObjects: 30, Guarded: true}); err != nil {
		t.Errorf("30 objects with a cap of 30: %v", err)
	}
}

func TestBuildTimeoutCutsOffWithoutBlockingOthers(t *testing.T) {
	// Long enough to outlast the timeout on an idle machine, short enough that the abandoned
	// build, which kustomize finishes anyway and which later builds that set an OpenAPI schema
	// wait for (TestOpenAPISchemaDoesNotLeak), ends within a minute on a loaded one.
	files := longPatchedList(1500)
	files["small/cm.yaml"] = configMap
	root := tree(t, files)
	slow := named("slow", "./slow")
	var err error
	var took time.Duration
	small := buildSmallMeanwhile(t, root, func() {
		start := time.Now()
		_, err = Build(context.Background(), root, slow, Options{MaxObjects: 5000, Guarded: true, Timeout: 500 * time.Millisecond})
		took = time.Since(start)
	})
	t.Logf("a build of seconds cut off after %s; a small build meanwhile took %s", took, small)
	wantReason(t, err, kustomizev1.BuildTimeoutReason)
	// Bounds far from the figures (about 0.5 s and 10 ms), so that a loaded machine does not fail them.
	if took > 30*time.Second || small > 30*time.Second {
		t.Errorf("cut off after %s, the small build took %s", took, small)
	}
	// kustomize goes on with the abandoned build (seconds, a minute under load; until then a build that sets an
	// OpenAPI schema waits for it): the unit's next build waits for it to end.
	_, err = Build(context.Background(), root, slow, Options{Guarded: true, Timeout: 500 * time.Millisecond})
	wantReason(t, err, kustomizev1.BuildTimeoutReason)
	if !strings.Contains(err.Error(), "still running") {
		t.Errorf("second build: %v", err)
	}
}
