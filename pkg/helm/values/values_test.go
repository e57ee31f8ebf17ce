package values

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	helmv1 "weir.dev/api/helm/v1"
)

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSetPath(t *testing.T) {
	cases := []struct {
		start, path, want, err string
	}{
		{start: `{}`, path: "a", want: `{"a":"v"}`},
		{start: `{"a":{"x":1}}`, path: "a.b.c", want: `{"a":{"b":{"c":"v"},"x":1}}`},
		{start: `{}`, path: "a.b[1].c", want: `{"a":{"b":[null,{"c":"v"}]}}`},
		{start: `{"a":[1,2,3]}`, path: "a[1]", want: `{"a":[1,"v",3]}`},
		{start: `{"a":"scalar"}`, path: "a.b", want: `{"a":{"b":"v"}}`},
		{start: `{}`, path: `a\.b.c`, want: `{"a.b":{"c":"v"}}`},
		{start: `{}`, path: "a[0][1]", want: `{"a":[[null,"v"]]}`},
		{start: `{}`, path: "x-y_z/w", want: `{"x-y_z/w":"v"}`},
		{path: "", err: "empty key"},
		{path: "a..b", err: "empty key"},
		{path: ".a", err: "empty key"},
		{path: "a.", err: "ends with a dot"},
		{path: "[0]", err: "empty key"},
		{path: "a[x]", err: "not a number"},
		{path: "a[100000]", err: "not a number"},
		{path: "a[1", err: "unclosed"},
		{path: "a]", err: "without"},
		{path: `a\`, err: "backslash"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			m := map[string]any{}
			if tc.start != "" {
				if err := json.Unmarshal([]byte(tc.start), &m); err != nil {
					t.Fatal(err)
				}
			}
			err := SetPath(m, tc.path, "v")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := toJSON(t, m); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	dst := map[string]any{"a": map[string]any{"x": 1, "y": 2}, "list": []any{1, 2}, "keep": true}
	src := map[string]any{"a": map[string]any{"y": 3, "z": 4}, "list": []any{9}, "new": "n"}
	want := `{"a":{"x":1,"y":3,"z":4},"keep":true,"list":[9],"new":"n"}`
	if got := toJSON(t, Merge(dst, src)); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// TestCompose covers the order of merging and the messages; the controller's tests read
// real objects from the API server.
func TestCompose(t *testing.T) {
	ns := "team"
	objs := fake.NewClientBuilder().WithObjects(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "base"},
			Data: map[string]string{"values.yaml": "a: 1\nb: {c: 1, d: 1}\n", "other": "b: {d: 2}\n", "bad": "a: [1\n"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
			Data: map[string][]byte{"values.yaml": []byte("b: {c: 3}\n"), "token": []byte("s3cr3t, with: comma"), "bad": []byte("password: `hunter2\n  - x: [")}},
	).Build()
	ref := func(kind, name, key, path string, optional bool) helmv1.ValuesReference {
		return helmv1.ValuesReference{Kind: kind, Name: name, ValuesKey: key, TargetPath: path, Optional: optional}
	}
	cases := []struct {
		name    string
		refs    []helmv1.ValuesReference
		inline  string
		want    string
		wantErr string
		missing bool
	}{
		{name: "in order, inline last",
			refs:   []helmv1.ValuesReference{ref("ConfigMap", "base", "", "", false), ref("Secret", "creds", "", "", false), ref("ConfigMap", "base", "other", "", false)},
			inline: `{"a": 5}`,
			want:   `{"a":5,"b":{"c":3,"d":2}}`},
		{name: "target path takes the whole content as a string",
			refs: []helmv1.ValuesReference{ref("ConfigMap", "base", "", "", false), ref("Secret", "creds", "token", "auth.token", false)},
			want: `{"a":1,"auth":{"token":"s3cr3t, with: comma"},"b":{"c":1,"d":1}}`},
		{name: "optional missing object and key are skipped",
			refs: []helmv1.ValuesReference{ref("Secret", "nope", "", "", true), ref("ConfigMap", "base", "nokey", "", true)},
			want: `{}`},
		{name: "missing secret is named",
			refs:    []helmv1.ValuesReference{ref("Secret", "nope", "", "", false)},
			wantErr: "spec.valuesFrom[0]: Secret 'team/nope' not found", missing: true},
		{name: "missing key is named",
			refs:    []helmv1.ValuesReference{ref("ConfigMap", "base", "", "", false), ref("ConfigMap", "base", "nokey", "", false)},
			wantErr: "spec.valuesFrom[1]: ConfigMap 'team/base' has no key 'nokey'", missing: true},
		{name: "invalid YAML names object and key",
			refs:    []helmv1.ValuesReference{ref("ConfigMap", "base", "bad", "", false)},
			wantErr: "spec.valuesFrom[0]: ConfigMap 'team/base' key 'bad' is not valid YAML"},
		{name: "invalid YAML in a Secret does not quote it",
			refs:    []helmv1.ValuesReference{ref("Secret", "creds", "bad", "", false)},
			wantErr: "Secret 'team/creds' key 'bad' is not valid YAML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var inline *apiextensionsv1.JSON
			if tc.inline != "" {
				inline = &apiextensionsv1.JSON{Raw: []byte(tc.inline)}
			}
			got, err := Compose(context.Background(), objs, ns, tc.refs, inline)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("the message quotes the Secret: %v", err)
				}
				var ve *Error
				if !errors.As(err, &ve) || ve.Missing != tc.missing {
					t.Fatalf("got %#v, want a values Error with Missing=%v", err, tc.missing)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := toJSON(t, got); s != tc.want {
				t.Fatalf("got %s, want %s", s, tc.want)
			}
		})
	}
}
