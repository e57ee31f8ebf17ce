package helmrepo

import (
	"bytes"
	"testing"
)

// FuzzParseIndex parses arbitrary bytes as a repository's index.yaml. An index it accepts
// holds no null list or entry, only versions named as their entry, and has a stable normal
// form: Normalize, ParseNormalized and Normalize again give the same bytes, and Select
// returns a version of the chart it was asked for.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(goodIndex))
	f.Add([]byte(indexOf("2024-01-01T00:00:00Z", "1.0.0", "not-semver", "1.0.0")))
	f.Add([]byte("apiVersion: v1\nentries:\n  app:\n  - name: other\n    version: 1.0.0\n  - name: app\n    version: \"\"\n"))
	f.Add([]byte("apiVersion: v1\nentries:\n  app:\n  - null\n"))
	f.Add([]byte("apiVersion: v1\nentries:\n  a: &x [{name: a, version: 1.0.0, urls: [a.tgz]}]\n  b: *x\n"))
	f.Add([]byte("apiVersion: v1\nentries:\n  app:\n  - {name: app, version: 1.0.0, dependencies: [null]}\n"))
	f.Add([]byte(`{"apiVersion":"v1","entries":{"app":[{"name":"app","version":"0.1.0","apiVersion":"v3"}]},"serverInfo":{}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		idx, _, err := ParseIndex(data)
		if err != nil {
			return
		}
		for name, versions := range idx.Entries {
			if versions == nil {
				t.Fatalf("chart %q: null list accepted", name)
			}
			for _, cv := range versions {
				if cv == nil || cv.Metadata == nil {
					t.Fatalf("chart %q: null version accepted", name)
				}
				if cv.Name != name {
					t.Fatalf("chart %q: version named %q kept", name, cv.Name)
				}
			}
		}
		norm, err := Normalize(idx)
		if err != nil {
			t.Fatalf("Normalize: %v", err)
		}
		back, err := ParseNormalized(norm)
		if err != nil {
			t.Fatalf("ParseNormalized of %s: %v", norm, err)
		}
		again, err := Normalize(back)
		if err != nil {
			t.Fatalf("Normalize again: %v", err)
		}
		if !bytes.Equal(norm, again) {
			t.Fatalf("normal form is not stable:\n%s\n%s", norm, again)
		}
		for name := range back.Entries {
			if cv, err := Select(back, name, "*"); err == nil && cv.Name != name {
				t.Fatalf("Select(%q) returned %q", name, cv.Name)
			}
		}
	})
}
