package predicates

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/event"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

func TestGateRequested(t *testing.T) {
	with := func(key, value string) *sourcev1.GitRepository {
		o := repo(1, "")
		if key != "" {
			o.Annotations = map[string]string{key: value}
		}
		return o
	}
	for _, tc := range []struct {
		name     string
		old, new *sourcev1.GitRepository
		want     bool
	}{
		{"approval set", with("", ""), with(meta.ApproveAnnotation, "main@sha1:1"), true},
		{"approval changed", with(meta.ApproveAnnotation, "main@sha1:1"), with(meta.ApproveAnnotation, "main@sha1:2"), true},
		{"approval unchanged", with(meta.ApproveAnnotation, "main@sha1:1"), with(meta.ApproveAnnotation, "main@sha1:1"), false},
		{"approval removed", with(meta.ApproveAnnotation, "main@sha1:1"), with("", ""), false},
		{"override set", with("", ""), with(meta.OverrideWindowAnnotation, "now"), true},
		{"other annotation", with("", ""), with("example.com/x", "y"), false},
	} {
		got := GateRequested{}.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new})
		if got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
