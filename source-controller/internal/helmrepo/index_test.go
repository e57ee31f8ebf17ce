package helmrepo

import (
	"errors"
	"strings"
	"testing"
)

// indexOf returns an index of chart app with versions in the given order.
func indexOf(generated string, versions ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\ngenerated: \"" + generated + "\"\nentries:\n  app:\n")
	for _, v := range versions {
		b.WriteString("  - apiVersion: v2\n    name: app\n    version: " + v + "\n    urls: [app-" + v + ".tgz]\n")
	}
	return b.String()
}

var goodIndex = indexOf("2024-01-01T00:00:00Z", "1.0.0", "1.10.0", "2.0.0-rc.1", "1.2.0")

func TestParseIndexRejectsBadInput(t *testing.T) {
	cases := []struct{ name, data, want string }{
		{"empty", "  \n", "index.yaml is empty"},
		{"not yaml", "entries: [: x", "not a valid index"},
		{"unknown field", "apiVersion: v1\nentries: {}\nextra: 1\n", "not a valid index"},
		{"no apiVersion", "entries: {}\n", "no apiVersion"},
		{"no entries", "apiVersion: v1\n", "no entries"},
		{"null entry", "apiVersion: v1\nentries:\n  app:\n  - null\n", "chart 'app' has a null entry (item 0)"},
		{"null list", "apiVersion: v1\nentries:\n  app: null\n", "chart 'app' has a null list"},
		{"entries not a map", "apiVersion: v1\nentries: 3\n", "not a valid index"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseIndex([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParseIndexDropsInvalidVersions(t *testing.T) {
	data := goodIndex + `  other:
  - apiVersion: v2
    name: other
    version: not-semver
  - apiVersion: v2
    name: sneaky
    version: 1.0.0
`
	idx, dropped, err := ParseIndex([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Entries["app"]) != 4 || len(idx.Entries["other"]) != 0 {
		t.Fatalf("entries %v", idx.Entries)
	}
	if len(dropped) != 2 || !strings.Contains(dropped[0], "not-semver") || !strings.Contains(dropped[1], "named 'sneaky'") {
		t.Fatalf("dropped %q", dropped)
	}
}

// TestNormalizeIsStable: the order of versions and the generated time do not change the bytes.
func TestNormalizeIsStable(t *testing.T) {
	a, _, err := ParseIndex([]byte(goodIndex))
	if err != nil {
		t.Fatal(err)
	}
	reordered := indexOf("2025-06-01T10:00:00Z", "1.2.0", "2.0.0-rc.1", "1.0.0", "1.10.0")
	b, _, err := ParseIndex([]byte(reordered))
	if err != nil {
		t.Fatalf("%v\n%s", err, reordered)
	}
	na, _ := Normalize(a)
	nb, _ := Normalize(b)
	if string(na) != string(nb) {
		t.Fatalf("normal forms differ:\n%s\n%s", na, nb)
	}
	back, err := ParseNormalized(na)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, cv := range back.Entries["app"] {
		order = append(order, cv.Version)
	}
	if strings.Join(order, " ") != "2.0.0-rc.1 1.10.0 1.2.0 1.0.0" {
		t.Fatalf("versions in order %v", order)
	}
}

func TestSelect(t *testing.T) {
	idx, _, err := ParseIndex([]byte(goodIndex))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, rng, want, err string }{
		{"app", "*", "1.10.0", ""},
		{"app", "", "1.10.0", ""},
		{"app", "~1.2", "1.2.0", ""},
		{"app", ">=2.0.0-0", "2.0.0-rc.1", ""},
		{"app", "1.0.0", "1.0.0", ""},
		{"app", ">=3", "", "no version of chart 'app' matches '>=3'"},
		{"nope", "*", "", "no chart 'nope'"},
		{"app", "not a range", "", "not a valid SemVer range"},
	}
	for _, tc := range cases {
		cv, err := Select(idx, tc.name, tc.rng)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Select(%s, %q): %v, want error %q", tc.name, tc.rng, err, tc.err)
			}
			var ir *InvalidRangeError
			if strings.Contains(tc.err, "SemVer range") != errors.As(err, &ir) {
				t.Errorf("Select(%s, %q): want *InvalidRangeError only for a bad range", tc.name, tc.rng)
			}
			continue
		}
		if err != nil || cv.Version != tc.want {
			t.Errorf("Select(%s, %q) = %v, %v; want %s", tc.name, tc.rng, cv, err, tc.want)
		}
	}
}
