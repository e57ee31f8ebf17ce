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

func TestReadyChanged(t *testing.T) {
	ready := func(status metav1.ConditionStatus, gen int64, msg string) *sourcev1.HelmChart {
		c := &sourcev1.HelmChart{}
		c.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: status, ObservedGeneration: gen, Message: msg}}
		return c
	}
	for _, tc := range []struct {
		name     string
		old, new *sourcev1.HelmChart
		want     bool
	}{
		{"first Ready", &sourcev1.HelmChart{}, ready(metav1.ConditionTrue, 1, "a"), true},
		{"Ready gone", ready(metav1.ConditionTrue, 1, "a"), &sourcev1.HelmChart{}, true},
		{"now failing", ready(metav1.ConditionTrue, 1, "a"), ready(metav1.ConditionFalse, 1, "no version"), true},
		{"new message", ready(metav1.ConditionFalse, 1, "a"), ready(metav1.ConditionFalse, 1, "b"), true},
		{"new generation observed", ready(metav1.ConditionTrue, 1, "a"), ready(metav1.ConditionTrue, 2, "a"), true},
		{"nothing", ready(metav1.ConditionTrue, 1, "a"), ready(metav1.ConditionTrue, 1, "a"), false},
		{"no conditions", &sourcev1.HelmChart{}, &sourcev1.HelmChart{}, false},
	} {
		if got := (ReadyChanged{}).Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
