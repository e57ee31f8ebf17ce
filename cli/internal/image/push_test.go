package image

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestPushCredentials pushes with the docker config's credentials: the right ones push, wrong
// or missing ones fail with one line that names the registry and holds no password.
func TestPushCredentials(t *testing.T) {
	const user, password, wrong = "weir", "right-s3cret", "wrong-s3cret"
	host := startRegistry(t, user, password)
	set := twoPlatforms(t)
	ctx := context.Background()

	dockerConfig(t, host, user, wrong)
	_, err := Push(ctx, set, host+"/weir", testVersion, Insecure())
	checkOneLine(t, err, "authentication failed", host)
	if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), password) {
		t.Errorf("the error holds a password: %v", err)
	}

	dockerConfig(t, "other.invalid", user, password)
	_, err = Push(ctx, set, host+"/weir", testVersion, Insecure())
	checkOneLine(t, err, "has none for it", host)

	dockerConfig(t, host, user, password)
	pushed, err := Push(ctx, set, host+"/weir", testVersion, Insecure())
	if err != nil {
		t.Fatal(err)
	}
	if len(pushed) != 1 || pushed[0].Ref.String() != host+"/weir/"+tiny+":"+testVersion {
		t.Errorf("pushed %v", pushed)
	}
}

// TestPushRefusals: a registry that is not there, or speaks plain HTTP without Insecure, fails
// with one clear line.
func TestPushRefusals(t *testing.T) {
	set := twoPlatforms(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, opts := range [][]PushOption{{Insecure()}, nil} {
		_, err = Push(ctx, set, closed, testVersion, opts...)
		checkOneLine(t, err, "cannot reach registry "+closed, "connection refused")
	}

	host := startRegistry(t, "", "")
	_, err = Push(ctx, set, host+"/weir", testVersion)
	checkOneLine(t, err, host+" does not speak HTTPS", "--insecure")

	_, err = Push(ctx, set, "weir-no-such-host.invalid/weir", testVersion)
	checkOneLine(t, err, "unknown registry host weir-no-such-host.invalid", "")
}

// TestCheckTarget refuses registries and versions that make no valid reference, before any
// build or request.
func TestCheckTarget(t *testing.T) {
	for _, tc := range []struct{ registry, version, want string }{
		{"ghcr.io/you", "v0.1.0-3-gabc1234-dirty", ""},
		{"localhost:5000", "v1", ""},
		{"127.0.0.1:5000/a/b", "dev", ""},
		{"", "v1", "registry is empty"},
		{"ghcr.io/you:v1", "v1", "without a tag or digest"},
		{"ghcr.io/you@sha256:0123", "v1", "without a tag or digest"},
		{"ghcr.io/you/", "v1", "without a tag or digest"},
		{"ghcr.io/You", "v1", `registry "ghcr.io/You"`},
		{"ghcr.io:v1", "v1", `registry "ghcr.io:v1"`},
		{"ghcr.io/you", "", "not a valid image tag"},
		{"ghcr.io/you", "v1+build", "not a valid image tag"},
		{"ghcr.io/you", "-v1", "not a valid image tag"},
		{"ghcr.io/you", strings.Repeat("a", 129), "not a valid image tag"},
	} {
		err := CheckTarget(tc.registry, tc.version)
		if tc.want == "" {
			if err != nil {
				t.Errorf("CheckTarget(%q, %q): %v", tc.registry, tc.version, err)
			}
			continue
		}
		checkOneLine(t, err, tc.want, "")
		// Push checks before it sends anything: the set is empty, and no registry exists.
		if _, err := Push(context.Background(), Set{}, tc.registry, tc.version); err == nil {
			t.Errorf("Push(%q, %q) accepted it", tc.registry, tc.version)
		}
	}
}

// checkOneLine fails unless err is one line holding every non-empty want.
func checkOneLine(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("no error, want one saying %q", want)
		return
	}
	msg := err.Error()
	t.Log(msg)
	if strings.Contains(msg, "\n") {
		t.Errorf("error of several lines:\n%s", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
}
