package controller

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	setsv1 "weir.dev/api/sets/v1"
)

func TestAssignSteps(t *testing.T) {
	pct := func(p int32) *int32 { return &p }
	canary := &metav1.LabelSelector{MatchLabels: map[string]string{"canary": "true"}}
	mk := func(n int) []*setInput {
		out := make([]*setInput, n)
		for i := range out {
			o := &unstructured.Unstructured{}
			if i == 7 {
				o.SetLabels(map[string]string{"canary": "true"})
			}
			out[i] = &setInput{name: fmt.Sprintf("in-%02d", i), objects: []*unstructured.Unstructured{o}}
		}
		return out
	}
	for name, tc := range map[string]struct {
		strategy *setsv1.Strategy
		n        int
		want     string // step of each input
		steps    int
	}{
		"none":                    {n: 4, want: "0000", steps: 1},
		"canary then rest":        {strategy: &setsv1.Strategy{Steps: []setsv1.Step{{Selector: canary}, {}}}, n: 10, want: "1111111011", steps: 2},
		"canary, 10%, rest":       {strategy: &setsv1.Strategy{Steps: []setsv1.Step{{Selector: canary}, {Percentage: pct(10)}, {}}}, n: 20, want: "11222220222222222222", steps: 3},
		"percentage rounds up":    {strategy: &setsv1.Strategy{Steps: []setsv1.Step{{Percentage: pct(1)}}}, n: 3, want: "011", steps: 2},
		"selector matching none":  {strategy: &setsv1.Strategy{Steps: []setsv1.Step{{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"x": "y"}}}}}, n: 2, want: "11", steps: 2},
		"leftovers make the last": {strategy: &setsv1.Strategy{Steps: []setsv1.Step{{Selector: canary}}}, n: 9, want: "111111101", steps: 2},
	} {
		t.Run(name, func(t *testing.T) {
			ins := mk(tc.n)
			steps, err := assignSteps(tc.strategy, ins)
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, in := range ins {
				fmt.Fprint(&got, in.step)
			}
			if got.String() != tc.want || steps != tc.steps {
				t.Fatalf("steps %s (%d), want %s (%d)", got.String(), steps, tc.want, tc.steps)
			}
		})
	}
}

func TestReadiness(t *testing.T) {
	obj := func(gen int64, cond map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "helm.weir.dev/v1", "kind": "HelmRelease",
			"metadata": map[string]any{"name": "x", "generation": gen}}}
		if cond != nil {
			u.Object["status"] = map[string]any{"conditions": []any{cond}}
		}
		return u
	}
	ready := func(status, reason string, og int64) map[string]any {
		return map[string]any{"type": "Ready", "status": status, "reason": reason, "message": "m", "observedGeneration": og}
	}
	for name, tc := range map[string]struct {
		u    *unstructured.Unstructured
		want objState
	}{
		"ready at its generation":       {obj(2, ready("True", "Succeeded", 2)), objReady},
		"ready at an older generation":  {obj(3, ready("True", "Succeeded", 2)), objProgressing},
		"failed at its generation":      {obj(2, ready("False", "InstallFailed", 2)), objFailed},
		"failed at an older generation": {obj(3, ready("False", "InstallFailed", 2)), objProgressing},
		"waiting on a dependency":       {obj(2, ready("False", "DependencyNotReady", 2)), objProgressing},
		"unknown":                       {obj(2, ready("Unknown", "Progressing", 2)), objProgressing},
		"a Weir kind without status":    {obj(1, nil), objProgressing}, // its controller has not looked yet
		"a ConfigMap is ready to exist": {&unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x"}}}, objReady},
	} {
		t.Run(name, func(t *testing.T) {
			if got, msg := readiness(tc.u); got != tc.want {
				t.Fatalf("state %d (%s), want %d", got, msg, tc.want)
			}
		})
	}
}
