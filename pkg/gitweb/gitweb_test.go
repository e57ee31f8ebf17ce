package gitweb

import "testing"

const testSHA = "0123456789abcdef0123456789abcdef01234567"

func TestCommit(t *testing.T) {
	for rev, want := range map[string]string{
		"main@sha1:" + testSHA:             testSHA,
		"sha1:" + testSHA:                  testSHA,
		"main/" + testSHA:                  testSHA,
		"refs/tags/v1@sha1:" + testSHA:     testSHA,
		"v1.0.0@sha256:" + testSHA + "abc": "",
		"6.5.1":                            "",
		"":                                 "",
	} {
		got, ok := Commit(rev)
		if (want == "" && ok) || (want != "" && got != want) {
			t.Errorf("Commit(%q) = %q, %v; want %q", rev, got, ok, want)
		}
	}
}

func TestCommitURL(t *testing.T) {
	for repo, want := range map[string]string{
		"https://github.com/org/app.git":        "https://github.com/org/app/commit/" + testSHA,
		"https://user:pw@github.com/org/app":    "https://github.com/org/app/commit/" + testSHA,
		"ssh://git@github.com/org/app.git":      "https://github.com/org/app/commit/" + testSHA,
		"git@github.com:org/app.git":            "https://github.com/org/app/commit/" + testSHA,
		"https://gitlab.com/g/sub/app":          "https://gitlab.com/g/sub/app/-/commit/" + testSHA,
		"https://bitbucket.org/ws/app.git":      "https://bitbucket.org/ws/app/commits/" + testSHA,
		"https://codeberg.org/o/app":            "https://codeberg.org/o/app/commit/" + testSHA,
		"https://gitlab.example.com:8443/g/app": "https://gitlab.example.com:8443/g/app/-/commit/" + testSHA,
		"https://git.example.com/org/app":       "",
		"https://github.com/only-owner":         "",
	} {
		if got := CommitURL(repo, testSHA); got != want {
			t.Errorf("CommitURL(%q) = %q, want %q", repo, got, want)
		}
	}
	if got := CommitURL("https://github.com/org/app", "main"); got != "" {
		t.Errorf("a branch is not a commit: %q", got)
	}
}
