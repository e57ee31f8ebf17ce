package image

import (
	"bytes"
	"os"
	"testing"
)

// TestBuildIsReproducible builds a real controller, and the stand-in for two platforms, a
// second time with their binaries in another temp dir, and expects the same index digests and
// the same archive bytes.
func TestBuildIsReproducible(t *testing.T) {
	first := Set{"notification-controller": builtAll(t)["notification-controller"], tiny: twoPlatforms(t)[tiny]}
	t.Setenv("TMPDIR", t.TempDir())
	second := Set{}
	for root, c := range map[string]string{repoRoot: "notification-controller", tinyRoot: tiny} {
		platforms := DefaultPlatforms
		if root == repoRoot {
			platforms = []Platform{hostPlatform}
		}
		set, err := timedBuild(t, testOptions(t, root, platforms, c))
		if err != nil {
			t.Fatal(err)
		}
		second[c] = set[c]
	}
	for _, c := range first.Names() {
		d1, err := first[c].Digest()
		if err != nil {
			t.Fatal(err)
		}
		d2, err := second[c].Digest()
		if err != nil {
			t.Fatal(err)
		}
		if d1 != d2 {
			m1, _ := first[c].RawManifest()
			m2, _ := second[c].RawManifest()
			t.Errorf("%s: two builds of one commit differ: %s and %s\n%s\n%s", c, d1, d2, m1, m2)
		}
	}

	a1, err := WriteArchive(t.TempDir(), first, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := WriteArchive(t.TempDir(), second, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a1 {
		b1, _ := os.ReadFile(a1[i])
		b2, _ := os.ReadFile(a2[i])
		if len(b1) == 0 || !bytes.Equal(b1, b2) {
			t.Errorf("two archives of one commit differ: %s (%d and %d bytes)", a1[i], len(b1), len(b2))
		}
	}
}
