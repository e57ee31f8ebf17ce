package render

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"helm.sh/helm/v3/pkg/chart"
)

// MaxSchemaSize bounds one chart's values.schema.json, in bytes.
const MaxSchemaSize = 1 << 20

// ErrSchemaRefused marks a values schema that is never handed to Helm: fix the chart, or skip
// schema validation.
var ErrSchemaRefused = errors.New("values schema refused")

// schemaURL is where Helm places a chart's schema when it compiles it: references relative to
// the file resolve against it, so "other.json" is file:///other.json.
const schemaURL = "file:///values.schema.json"

// CheckSchemas refuses (ErrSchemaRefused) a chart whose own or any subchart's
// values.schema.json is over MaxSchemaSize, or does not compile on its own: it refers to
// another document ($ref, $dynamicRef or $schema to a URL, a file or a URN) or is invalid.
// Nothing is read or requested.
//
// Helm (chartutil.ValidateAgainstSchema) compiles the same bytes at the same URL with the
// same jsonschema module and its loaders read files and make HTTP requests for every document a
// schema refers to. A full compile visits every reference, whatever the order, so a schema
// that compiles here without loading anything makes Helm load nothing either. Any compile
// error refuses, since Helm might reach a reference before the error.
func CheckSchemas(ch *chart.Chart) error {
	if ch.Schema != nil {
		if err := checkSchema(ch.Schema); err != nil {
			return fmt.Errorf("%w: %s/values.schema.json %w", ErrSchemaRefused, ch.ChartFullPath(), err)
		}
	}
	for _, dep := range ch.Dependencies() {
		if err := CheckSchemas(dep); err != nil {
			return err
		}
	}
	return nil
}

// checkSchema compiles one schema with a loader that refuses every document.
func checkSchema(b []byte) error {
	if len(b) > MaxSchemaSize {
		return fmt.Errorf("is %d bytes, over the limit of %d", len(b), MaxSchemaSize)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("is not valid JSON: %w", err)
	}
	refused := &refusingLoader{}
	c := jsonschema.NewCompiler()
	c.UseLoader(refused)
	if err := c.AddResource(schemaURL, doc); err != nil {
		return fmt.Errorf("is invalid: %s", clip(err.Error()))
	}
	if _, err := c.Compile(schemaURL); err != nil {
		if refused.first != "" {
			return fmt.Errorf("refers to %q, outside the file: only references within it are followed (or skip schema validation with disableSchemaValidation)", refused.first)
		}
		return fmt.Errorf("is invalid: %s", clip(err.Error()))
	}
	return nil
}

// refusingLoader refuses to load any document and remembers the first one asked for.
type refusingLoader struct{ first string }

func (l *refusingLoader) Load(u string) (any, error) {
	if l.first == "" {
		l.first = redactURL(u)
	}
	return nil, errors.New("not loaded")
}

// redactURL drops a URL's userinfo and bounds its length, for messages.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = nil
		s = u.String()
	}
	return clip(s)
}

// clip bounds a message part taken from the schema.
func clip(s string) string {
	const maxLen = 300
	if len(s) > maxLen {
		return strings.ToValidUTF8(s[:maxLen], "") + "..."
	}
	return s
}
