package predicates

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

func repo(generation int64, requestedAt string) *sourcev1.GitRepository {
	r := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "r", Generation: generation}}
	if requestedAt != "" {
		r.Annotations = map[string]string{meta.ReconcileRequestAnnotation: requestedAt}
	}
	return r
}

func TestDefault(t *testing.T) {
	cases := []struct {
		name     string
		old, new *sourcev1.GitRepository
		want     bool
	}{
		{"status only", repo(1, ""), repo(1, ""), false},
		{"new generation", repo(1, ""), repo(2, ""), true},
		{"first request", repo(1, ""), repo(1, "t1"), true},
		{"new request", repo(1, "t1"), repo(1, "t2"), true},
		{"same request", repo(1, "t1"), repo(1, "t1"), false},
		{"request removed", repo(1, "t1"), repo(1, ""), false},
	}
	p := Default()
	for _, tc := range cases {
		if got := p.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
			t.Errorf("%s: Update = %v, want %v", tc.name, got, tc.want)
		}
	}
}
