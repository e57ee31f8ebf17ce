package render

import (
	"errors"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
)

func TestCheckSchemas(t *testing.T) {
	for _, tc := range []struct {
		name, schema string
		want         string // in the error; "" for none
	}{
		{"no references", `{"type":"object","properties":{"port":{"type":"integer"}}}`, ""},
		{"draft-07 meta-schema", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}`, ""},
		{"definitions", `{"definitions":{"port":{"type":"integer"}},"properties":{"port":{"$ref":"#/definitions/port"}}}`, ""},
		{"$defs", `{"$defs":{"port":{"type":"integer"}},"properties":{"port":{"$ref":"#/$defs/port"}}}`, ""},
		{"own $id", `{"$id":"https://example.com/s.json","$defs":{"p":{"type":"integer"}},"properties":{"p":{"$ref":"#/$defs/p"}}}`, ""},
		{"http", `{"properties":{"a":{"$ref":"http://127.0.0.1:1/a.json"}}}`, `refers to "http://127.0.0.1:1/a.json", outside the file`},
		{"https with userinfo", `{"properties":{"a":{"$ref":"https://user:pw@127.0.0.1:1/a.json"}}}`, `refers to "https://127.0.0.1:1/a.json"`},
		{"relative file", `{"properties":{"a":{"$ref":"other.json"}}}`, `refers to "file:///other.json"`},
		{"absolute file", `{"properties":{"a":{"$ref":"/etc/passwd"}}}`, `refers to "file:///etc/passwd"`},
		{"urn", `{"properties":{"a":{"$ref":"urn:example:a"}}}`, `refers to "urn:example:a"`},
		{"meta-schema URL", `{"$schema":"http://127.0.0.1:1/meta.json","type":"object"}`, `refers to "http://127.0.0.1:1/meta.json"`},
		{"$id elsewhere", `{"properties":{"a":{"$id":"http://127.0.0.1:1/x/","$ref":"b.json"}}}`, `refers to "http://127.0.0.1:1/x/b.json"`},
		{"invalid", `{"type":12}`, "is invalid"},
		{"not JSON", `{`, "is not valid JSON"},
		{"too large", `{"description":"` + strings.Repeat("x", MaxSchemaSize) + `"}`, "over the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := &chart.Chart{Metadata: &chart.Metadata{Name: "demo", Version: "1.0.0"}, Schema: []byte(tc.schema)}
			err := CheckSchemas(ch)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrSchemaRefused) || !strings.Contains(err.Error(), "demo/values.schema.json ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrSchemaRefused with %q", err, tc.want)
			}
		})
	}
}

// TestCheckSchemasSubchart: a subchart's schema is checked whether or not it has values, and
// named by its path.
func TestCheckSchemasSubchart(t *testing.T) {
	parent := &chart.Chart{Metadata: &chart.Metadata{Name: "demo", Version: "1.0.0"}}
	sub := &chart.Chart{Metadata: &chart.Metadata{Name: "db", Version: "1.0.0"}, Schema: []byte(`{"$ref":"http://127.0.0.1:1/db.json"}`)}
	parent.AddDependency(sub)
	err := CheckSchemas(parent)
	if !errors.Is(err, ErrSchemaRefused) || !strings.Contains(err.Error(), "demo/charts/db/values.schema.json refers to") {
		t.Fatalf("error %v", err)
	}
}
