package ui

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestFactsShowScalarsNotStructures(t *testing.T) {
	release := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{
			"interval": "5m",
			"chart": map[string]any{"spec": map[string]any{
				"chart": "podinfo", "version": "6.x",
				"sourceRef": map[string]any{"kind": "HelmRepository", "name": "charts"},
			}},
			"values": map[string]any{"replicas": int64(2)},
		},
	}}
	got := fmt.Sprint(facts(release))
	if want := "[[Chart podinfo] [Chart version 6.x] [Interval 5m]]"; got != want {
		t.Errorf("HelmRelease facts %s, want %s", got, want)
	}
	repo := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{"url": "https://github.com/org/app", "ref": map[string]any{"branch": "main"}},
	}}
	if got, want := fmt.Sprint(facts(repo)), "[[URL https://github.com/org/app] [Ref branch=main]]"; got != want {
		t.Errorf("GitRepository facts %s, want %s", got, want)
	}
}
