package controller

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
)

// schemaServer is a loopback server that answers every request with a valid schema (so that
// a controller following a reference would go on) and counts the requests.
func schemaServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"type":"string"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestValuesSchemaRemoteRefRefused: a values.schema.json whose $ref names a URL stalls the
// release, naming the file and the URL, without a request to it and without installing.
// Skipping schema validation installs it, still without a request; an upgrade that validates
// is refused again.
func TestValuesSchemaRemoteRefRefused(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	srv, hits := schemaServer(t)
	ref := srv.URL + "/greeting.json"
	schema := `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object",` +
		`"properties":{"greeting":{"$ref":"` + ref + `"}}}`
	publishChart(t, ns, "chart", testChart{files: map[string]string{"values.schema.json": schema}})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"greeting":"hello"}`) })
	waitNotReady(t, hr, helmv1.ValuesSchemaRefusedReason, "demo/values.schema.json refers to \""+ref+"\"", true)
	t.Logf("message: %s", conditionMessage(hr, meta.ReadyCondition))
	requestReconcile(t, hr)
	waitNotReady(t, hr, helmv1.ValuesSchemaRefusedReason, ref, true)
	if n := hits.Load(); n != 0 {
		t.Fatalf("the schema's URL received %d requests", n)
	}
	wantRevisions(t, ns, "app")
	if renderedValues(t, ns, "app") != nil {
		t.Fatal("objects were installed from a refused chart")
	}

	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Install = &helmv1.Install{DisableSchemaValidation: true} })
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	if n := hits.Load(); n != 0 {
		t.Fatalf("the schema's URL received %d requests", n)
	}

	// An upgrade validates unless spec.upgrade says otherwise: refused, the release kept.
	publishChart(t, ns, "chart", testChart{version: "1.1.0", files: map[string]string{"values.schema.json": schema}})
	waitNotReady(t, hr, helmv1.ValuesSchemaRefusedReason, "chart demo@1.1.0: values schema refused: demo/values.schema.json refers to \""+ref+"\"", true)
	wantRevisions(t, ns, "app", "1:deployed")
	if n := hits.Load(); n != 0 {
		t.Fatalf("the schema's URL received %d requests", n)
	}
}

// TestValuesSchemaFileRefRefused: a $ref to a file of the controller's filesystem is refused
// and the file is not read (it would make the install fail on a missing property).
func TestValuesSchemaFileRefRefused(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	file := filepath.Join(t.TempDir(), "local.json")
	if err := os.WriteFile(file, []byte(`{"type":"object","required":["fromFile"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	publishChart(t, ns, "chart", testChart{files: map[string]string{
		"values.schema.json": `{"type":"object","allOf":[{"$ref":"file://` + filepath.ToSlash(file) + `"}]}`,
	}})
	hr := createHelmRelease(t, ns, "app", nil)
	waitNotReady(t, hr, helmv1.ValuesSchemaRefusedReason, "demo/values.schema.json refers to \"file://"+filepath.ToSlash(file)+"\"", true)
	if msg := conditionMessage(hr, meta.ReadyCondition); strings.Contains(msg, "fromFile") {
		t.Fatalf("the referenced file was read: %s", msg)
	}
	wantRevisions(t, ns, "app")
}

// TestValuesSchemaLocalRefs: references within the schema still validate values, with Helm's
// messages; valid values install.
func TestValuesSchemaLocalRefs(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	publishChart(t, ns, "chart", testChart{files: map[string]string{
		"values.schema.json": `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object",` +
			`"definitions":{"port":{"type":"integer","minimum":1}},"properties":{"port":{"$ref":"#/definitions/port"}}}`,
	}})
	hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"port":"eighty"}`) })
	waitNotReady(t, hr, helmv1.InstallFailedReason, "values don't meet the specifications of the schema(s)", true)
	msg := conditionMessage(hr, meta.ReadyCondition)
	t.Logf("message: %s", msg)
	if !strings.Contains(msg, "at '/port'") || !strings.Contains(msg, "want integer") {
		t.Fatalf("message %q does not name the value and the type", msg)
	}
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) { hr.Spec.Values = jsonValues(`{"port":80}`) })
	waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")
	waitRendered(t, ns, "app", "port", "80")
}
