package image

import (
	"bytes"
	"os"
	"testing"
)

// TestBuildIsReproducible builds notification-controller for two platforms a second time, with
// its binaries in another temp dir, and expects the same index digest and archive bytes.
func TestBuildIsReproducible(t *testing.T) {
	first := twoPlatforms(t)
	t.Setenv("TMPDIR", t.TempDir())
	second, err := timedBuild(t, testOptions(t, DefaultPlatforms, "notification-controller"))
	if err != nil {
		t.Fatal(err)
	}
	c := "notification-controller"
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
		t.Fatalf("two builds of one commit differ: %s and %s\n%s\n%s", d1, d2, m1, m2)
	}

	a1, err := WriteArchive(t.TempDir(), first, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := WriteArchive(t.TempDir(), second, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(a1[0])
	b2, _ := os.ReadFile(a2[0])
	if len(b1) == 0 || !bytes.Equal(b1, b2) {
		t.Errorf("two archives of one commit differ (%d and %d bytes)", len(b1), len(b2))
	}
	t.Logf("index %s; archive %s: %d bytes", d1, a1[0], len(b1))
}
