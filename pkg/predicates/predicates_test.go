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

func TestArtifactChanged(t *testing.T) {
	with := func(rev, digest string) *sourcev1.GitRepository {
		r := repo(1, "")
		if rev != "" {
			r.Status.Artifact = &meta.Artifact{Revision: rev, Digest: digest}
		}
		return r
	}
	cases := []struct {
		name     string
		old, new *sourcev1.GitRepository
		want     bool
	}{
		{"first artifact", with("", ""), with("main@sha1:a", "sha256:1"), true},
		{"new revision", with("main@sha1:a", "sha256:1"), with("main@sha1:b", "sha256:2"), true},
		{"same revision, new digest (ignore rules)", with("main@sha1:a", "sha256:1"), with("main@sha1:a", "sha256:2"), true},
		{"unchanged", with("main@sha1:a", "sha256:1"), with("main@sha1:a", "sha256:1"), false},
		{"artifact gone", with("main@sha1:a", "sha256:1"), with("", ""), false},
	}
	p := ArtifactChanged{}
	for _, tc := range cases {
		if got := p.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
			t.Errorf("%s: Update = %v, want %v", tc.name, got, tc.want)
		}
	}
	if p.Create(event.CreateEvent{Object: with("", "")}) || !p.Create(event.CreateEvent{Object: with("main@sha1:a", "x")}) {
		t.Error("Create must pass only a source that has an artifact")
	}
}
