package cmd

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
)

func TestAPIErrorExplainsMissingCRDs(t *testing.T) {
	noMatch := &apimeta.NoKindMatchError{GroupKind: schema.GroupKind{Group: "kustomize.weir.dev", Kind: "Kustomization"}}
	if err := apiError(noMatch); !errors.Is(err, errNoCRDs) {
		t.Errorf("apiError(%v) = %v, want %v", noMatch, err, errNoCRDs)
	}
	other := errors.New("boom")
	if err := apiError(other); err != other {
		t.Errorf("apiError changed an unrelated error: %v", err)
	}
}

func TestSimilarNames(t *testing.T) {
	for _, tc := range []struct {
		want, have string
		similar    bool
	}{
		{"podinf", "podinfo", true},
		{"podinfo", "podnifo", true},
		{"apps", "infra-apps", true},
		{"podinfo", "redis", false},
	} {
		if got := similar(tc.want, tc.have); got != tc.similar {
			t.Errorf("similar(%q, %q) = %v", tc.want, tc.have, got)
		}
	}
}

func TestGetObjectWithoutCRDs(t *testing.T) {
	// The test control plane has Weir's CRDs: a client whose REST mapper knows no kind sees the
	// API server as one without them.
	c, err := client.New(env.Config, client.Options{Scheme: Scheme(), Mapper: apimeta.NewDefaultRESTMapper(nil)})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := objects.FindKind("ks")
	if _, err := getObject(context.Background(), c, k, "default", "apps"); !errors.Is(err, errNoCRDs) {
		t.Errorf("getObject = %v, want %v", err, errNoCRDs)
	}
}

func TestEveryCommandExplainsNoCluster(t *testing.T) {
	for _, args := range [][]string{
		{"get", "ks"}, {"get", "all", "-A", "--watch"}, {"reconcile", "ks", "apps"}, {"suspend", "ks", "apps"},
		{"resume", "ks", "apps"}, {"events"}, {"tree", "ks", "apps"}, {"trace", "deploy/web"}, {"check"}, {"install"},
		{"create", "source", "git", "app", "--url", "https://example.com/app"}, {"export", "ks", "apps"},
	} {
		var out, errOut bytes.Buffer
		code := Execute(append([]string{"--kubeconfig", "/nonexistent/kubeconfig"}, args...), &out, &errOut)
		if code != 1 || !strings.Contains(errOut.String(), "no cluster to talk to") {
			t.Errorf("weir %v: code %d, %q", args, code, errOut.String())
		}
	}
}

func TestTableColoursOnlyReady(t *testing.T) {
	tb := &table{header: []string{"NAME", "READY", "AGE"}, rows: [][]string{{"a", "True", "1m"}, {"bb", "False", "2m"}}}
	tb.colour = func(row, col int) string {
		if col == 1 {
			return readyColour(tb.rows[row][col])
		}
		return ""
	}
	var out bytes.Buffer
	if err := tb.write(&out); err != nil {
		t.Fatal(err)
	}
	want := "NAME   READY   AGE\n" +
		"a      " + colourGreen + "True" + colourReset + "    1m\n" +
		"bb     " + colourRed + "False" + colourReset + "   2m\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}
