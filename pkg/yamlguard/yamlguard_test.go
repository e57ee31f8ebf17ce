package yamlguard

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	bomb := "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" +
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n" +
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"no alias", "apiVersion: v1\nkind: ConfigMap\ndata: {k: '*'}\n", ""},
		{"aliases reused", "base: &b {k: v}\none: *b\ntwo: *b\nthree:\n  <<: *b\n  extra: 1\n", ""},
		{"diamond", "a: &a [x]\nb: &b [*a, *a]\nc: [*b, *b, *a]\n", ""},
		{"syntax error left to the reader", "ok: 1\n---\n: : [*x\n", ""},
		{"undefined alias left to the reader", "a: *nowhere\n", ""},
		{"map key (found by FuzzGuard)", "0: &a {*a}\n", "doc.yaml: the YAML alias *a is inside the anchor &a"},
		{"map value", "data: &d {k: *d}\n", "the YAML alias *d is inside the anchor &d"},
		{"sequence", "a: &a [*a]\n", "the YAML alias *a is inside the anchor &a"},
		{"through another anchor", "a: &a [x, &b {y: *a}]\n", "the YAML alias *a is inside the anchor &a"},
		{"in a later document", "kind: A\n---\nkind: B\nspec: &s {k: [*s]}\n", "the YAML alias *s is inside the anchor &s"},
		{"billion laughs", bomb, "doc.yaml: too many YAML aliases"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check("doc.yaml", []byte(tc.doc))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
