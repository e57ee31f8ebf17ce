package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	setsv1 "weir.dev/api/sets/v1"
	"weir.dev/pkg/testenv"
)

// BenchmarkSet1000Inputs: a set of 1,000 literal inputs, one ConfigMap each, from creation to
// every object applied and the set Ready, against the suite's API server. It reports the
// seconds to Ready per set (the target is under 10 s) and the reconciler's CPU is the
// process's (go test -bench . -benchtime 1x -cpuprofile, or /usr/bin/time for peak RSS).
func BenchmarkSet1000Inputs(b *testing.B) {
	items := make([]string, 1000)
	for i := range items {
		items[i] = fmt.Sprintf(`{"name":"app-%04d","value":"%d"}`, i, i)
	}
	var total time.Duration
	for range b.N {
		b.StopTimer()
		ns := env.Namespace(b)
		b.StartTimer()
		start := time.Now()
		set := createSet(b, ns, "bench", configMapTemplate, func(s *setsv1.ResourceSet) {
			s.Spec.Generators = []setsv1.Generator{{List: listOf(items...)}}
		})
		testenv.Eventually(b, 5*time.Minute, func() error {
			if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(set), set); err != nil {
				return err
			}
			if c := apimeta.FindStatusCondition(set.Status.Conditions, meta.ReadyCondition); c == nil || c.Status != metav1.ConditionTrue {
				return fmt.Errorf("not Ready: %+v", c)
			}
			return nil
		})
		total += time.Since(start)
		b.StopTimer()
		var list corev1.ConfigMapList
		if err := env.Client.List(context.Background(), &list, client.InNamespace(ns), client.HasLabels{setsv1.OwnerNameLabel}); err != nil {
			b.Fatal(err)
		}
		if len(list.Items) != 1000 {
			b.Fatalf("%d ConfigMaps, want 1000", len(list.Items))
		}
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-ready/set")
}
