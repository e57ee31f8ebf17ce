package predicates_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"weir.dev/pkg/predicates"
	"weir.dev/pkg/testenv"
)

// refIndex indexes ConfigMaps by data.ref, standing in for a kind's index of the objects it
// references.
const refIndex = ".data.ref"

// TestRequestsByIndex maps an event's object to requests through a field index on a real
// cache: within the object's namespace or across namespaces, and, when the list fails (an
// index the cache does not have), to no requests with the failure logged with the object.
func TestRequestsByIndex(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := cache.New(env.Config, cache.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.IndexField(ctx, &corev1.ConfigMap{}, refIndex, func(o client.Object) []string {
		if ref := o.(*corev1.ConfigMap).Data["ref"]; ref != "" {
			return []string{ref}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = c.Start(ctx) }()
	defer wg.Wait()
	defer cancel()
	if !c.WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}

	ns1, ns2 := env.Namespace(t), env.Namespace(t)
	for _, cm := range []struct{ ns, name, ref string }{
		{ns1, "uses-s", "s"}, {ns1, "uses-other", "other"}, {ns1, "uses-nothing", ""}, {ns2, "also-uses-s", "s"},
	} {
		obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: cm.ns, Name: cm.name}}
		if cm.ref != "" {
			obj.Data = map[string]string{"ref": cm.ref}
		}
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns1, Name: "s"}}

	requests := func(scope predicates.Scope) []string {
		var got []string
		for _, r := range predicates.RequestsByIndex[corev1.ConfigMapList](c, refIndex, predicates.Name, scope)(ctx, secret) {
			got = append(got, r.String())
		}
		slices.Sort(got)
		return got
	}
	same := []string{ns1 + "/uses-s"}
	testenv.Eventually(t, time.Minute, func() error {
		if got := requests(predicates.SameNamespace); !slices.Equal(got, same) {
			return fmt.Errorf("same namespace: got %v, want %v", got, same)
		}
		return nil
	})
	all := []string{ns1 + "/uses-s", ns2 + "/also-uses-s"}
	slices.Sort(all)
	testenv.Eventually(t, time.Minute, func() error {
		if got := requests(predicates.AllNamespaces); !slices.Equal(got, all) {
			return fmt.Errorf("all namespaces: got %v, want %v", got, all)
		}
		return nil
	})

	var (
		mu   sync.Mutex
		logs []string
	)
	logger := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, args)
	}, funcr.Options{})
	missing := predicates.RequestsByIndex[corev1.ConfigMapList](c, ".data.missing", predicates.Name, predicates.SameNamespace)
	if got := missing(log.IntoContext(ctx, logger), secret); len(got) != 0 {
		t.Fatalf("a failed list gave requests %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logs) != 1 || !strings.Contains(logs[0], ns1+"/s") || !strings.Contains(logs[0], ".data.missing") {
		t.Fatalf("want one error naming the object %s/s and the index, logged: %q", ns1, logs)
	}
}
