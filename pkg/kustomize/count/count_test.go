package count

import (
	"strings"
	"testing"
)

func TestObjects(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
	for _, tc := range []struct {
		name string
		in   string
		stop int
		want int
	}{
		{"empty", "", 0, 0},
		{"comments and separators only", "# Source: x\n---\n---\n", 0, 0},
		{"documents", cm + "---\n" + cm + "---\n" + cm, 0, 3},
		{"list items", "apiVersion: v1\nkind: ConfigMapList\nitems:\n- " + strings.ReplaceAll(cm, "\n", "\n  ") + "\n- {kind: ConfigMap}\n", 0, 2},
		{"json", `{"kind": "ConfigMap"}`, 0, 1},
		{"not yaml", "a: [\n", 0, 1},
		{"stops past stop", strings.Repeat(cm+"---\n", 100), 10, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Objects([]byte(tc.in), tc.stop); got != tc.want {
				t.Errorf("Objects = %d, want %d", got, tc.want)
			}
		})
	}
}
