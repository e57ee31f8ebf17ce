package ui

import (
	"strings"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
)

// waveAnnotation puts an applied object in a wave (kustomize-controller's WaveAnnotation).
const waveAnnotation = "kustomize.weir.dev/wave"

// progress is Reconciling's message while it is true: for a Kustomization applying in waves,
// the wave or hook it waits for ("wave 2 of 4: waiting for Deployment/app/api").
func progress(cs []metav1.Condition) string {
	if c := apimeta.FindStatusCondition(cs, meta.ReconcilingCondition); c != nil && c.Status == metav1.ConditionTrue {
		return c.Message
	}
	return ""
}

// hooks is a Kustomization's status.hooks: each hook object and how it last ran.
func hooks(u *unstructured.Unstructured) *table {
	hs, _, _ := unstructured.NestedSlice(u.Object, "status", "hooks")
	if len(hs) == 0 {
		return nil
	}
	t := &table{Header: []string{"Hook", "Object", "Phase", "Revision", "Message"}}
	for _, h := range hs {
		entry, _ := h.(map[string]any)
		id, _, _ := unstructured.NestedString(entry, "id")
		ref := id
		if ns, name, gk, err := objects.ParseInventoryID(id); err == nil {
			ref = gk.Kind + "/" + strings.TrimPrefix(ns+"/"+name, "/")
		}
		point, _, _ := unstructured.NestedString(entry, "point")
		phase, _, _ := unstructured.NestedString(entry, "phase")
		revision, _, _ := unstructured.NestedString(entry, "revision")
		msg, _, _ := unstructured.NestedString(entry, "message")
		t.Rows = append(t.Rows, []string{point, ref, phase, revision, msg})
	}
	return t
}
