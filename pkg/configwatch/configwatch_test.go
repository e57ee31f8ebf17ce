package configwatch

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"weir.dev/api/meta"
)

func object(rv string, labels map[string]string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "vars", ResourceVersion: rv, Labels: labels}}
}

// TestPredicates: only labelled objects pass (an update that removes the label too), and a
// resync that changes nothing does not.
func TestPredicates(t *testing.T) {
	on := map[string]string{meta.WatchLabel: meta.WatchLabelEnabled}
	off := map[string]string{meta.WatchLabel: "disabled"}
	l, c := Labelled(), changed{}
	for _, tc := range []struct {
		name     string
		old, new *metav1.PartialObjectMetadata
		want     bool
	}{
		{"labelled change", object("1", on), object("2", on), true},
		{"label added", object("1", nil), object("2", on), true},
		{"label removed", object("1", on), object("2", nil), true},
		{"unlabelled change", object("1", nil), object("2", nil), false},
		{"other value", object("1", off), object("2", off), false},
		{"resync", object("1", on), object("1", on), false},
	} {
		got := l.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}) && c.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new})
		if got != tc.want {
			t.Errorf("%s: passed %v, want %v", tc.name, got, tc.want)
		}
	}
	if !l.Create(event.CreateEvent{Object: object("1", on)}) || l.Create(event.CreateEvent{Object: object("1", nil)}) {
		t.Error("Create passes exactly the labelled objects")
	}
	if !l.Delete(event.DeleteEvent{Object: object("1", on)}) || l.Delete(event.DeleteEvent{Object: object("1", nil)}) {
		t.Error("Delete passes exactly the labelled objects")
	}
	if got := Key(ConfigMapKind, "ns", "vars"); got != "ConfigMap/ns/vars" {
		t.Errorf("Key = %q", got)
	}
}
