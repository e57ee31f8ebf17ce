package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

func TestGetTable(t *testing.T) {
	ns := env.Namespace(t)
	create(t, gitRepository(ns, "app", ready(metav1.ConditionTrue, meta.SucceededReason, "stored artifact for revision main@sha1:abc"), "main@sha1:abc"))
	create(t, gitRepository(ns, "broken", ready(metav1.ConditionFalse, meta.AuthenticationFailedReason, "authentication required"), ""))
	create(t, kustomization(ns, "apps", "app", ready(metav1.ConditionTrue, meta.SucceededReason, "Applied revision: main@sha1:abc"), "main@sha1:abc"))

	code, out, errOut := weir(t, "get", "gitrepo", "-n", ns)
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and two rows, got:\n%s", out)
	}
	for _, want := range []string{"NAME", "READY", "STATUS", "REVISION", "SUSPENDED", "AGE"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("header %q lacks %s", lines[0], want)
		}
	}
	if f := strings.Fields(lines[1]); f[0] != "app" || f[1] != "True" || !strings.Contains(lines[1], "main@sha1:abc") || !strings.Contains(lines[1], "false") {
		t.Errorf("row of app: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); f[0] != "broken" || f[1] != "False" || !strings.Contains(lines[2], "authentication required") {
		t.Errorf("row of broken: %q", lines[2])
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour when stdout is not a terminal:\n%q", out)
	}

	// all -A: a NAMESPACE column and kind-prefixed names, sources first.
	code, out, _ = weir(t, "get", "all", "-A")
	if code != 0 || !strings.HasPrefix(out, "NAMESPACE") {
		t.Fatalf("get all -A: code %d\n%s", code, out)
	}
	// The NAMESPACE column is as wide as the longest namespace of the other tests' objects too.
	row := func(name string) int {
		loc := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(ns) + ` +` + regexp.QuoteMeta(name) + ` `).FindStringIndex(out)
		if loc == nil {
			return -1
		}
		return loc[0]
	}
	gi, ki := row("gitrepository/app"), row("kustomization/apps")
	if gi < 0 || ki < 0 || gi > ki {
		t.Errorf("get all -A should list gitrepository/app before kustomization/apps:\n%s", out)
	}

	// Names, plurals and short names.
	for _, kind := range []string{"ks", "kustomization", "Kustomizations", "kustomizations.kustomize.weir.dev"} {
		if code, out, _ := weir(t, "get", kind, "-n", ns); code != 0 || !strings.Contains(out, "apps") {
			t.Errorf("get %s: code %d\n%s", kind, code, out)
		}
	}
}

func TestGetOutputFormats(t *testing.T) {
	ns := env.Namespace(t)
	create(t, gitRepository(ns, "app", ready(metav1.ConditionTrue, meta.SucceededReason, "ok"), "main@sha1:abc"))

	code, out, _ := weir(t, "get", "gitrepositories", "-n", ns, "-o", "json")
	var list struct {
		Kind  string           `json:"kind"`
		Items []map[string]any `json:"items"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || list.Kind != "List" || len(list.Items) != 1 {
		t.Fatalf("-o json: code %d\n%s", code, out)
	}
	code, out, _ = weir(t, "get", "gitrepo", "app", "-n", ns, "-o", "yaml")
	if code != 0 || !strings.Contains(out, "kind: GitRepository") || !strings.Contains(out, "revision: main@sha1:abc") || strings.Contains(out, "managedFields") {
		t.Fatalf("-o yaml of one object: code %d\n%s", code, out)
	}
	if code, _, errOut := weir(t, "get", "gitrepo", "-o", "xml"); code != 1 || !strings.Contains(errOut, `unknown output format "xml"`) {
		t.Errorf("-o xml: code %d, %q", code, errOut)
	}
}

func TestGetErrors(t *testing.T) {
	ns := env.Namespace(t)
	other := env.Namespace(t)
	create(t, kustomization(ns, "podinfo", "app", nil, ""))
	create(t, kustomization(other, "elsewhere", "app", nil, ""))

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown kind", []string{"get", "deployments"}, `unknown kind "deployments"`},
		{"close name", []string{"get", "ks", "podinf", "-n", ns}, "did you mean podinfo?"},
		{"other namespace", []string{"get", "ks", "elsewhere", "-n", ns}, "it exists in namespace " + other},
		{"nothing close", []string{"get", "ks", "zzzzzzzz", "-n", ns}, `Kustomization "zzzzzzzz" not found in namespace "` + ns + `"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := weir(t, tc.args...)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("code %d, stderr %q; want 1 and %q", code, errOut, tc.want)
			}
		})
	}

	code, _, errOut := weir(t, "get", "hr", "-n", ns)
	if code != 0 || !strings.Contains(errOut, "No helmreleases found in namespace "+ns) {
		t.Errorf("empty list: code %d, %q", code, errOut)
	}

	var out, stderr bytes.Buffer
	code = Execute([]string{"--kubeconfig", "/nonexistent/kubeconfig", "get", "ks"}, &out, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "no cluster to talk to") {
		t.Errorf("no cluster: code %d, %q", code, stderr.String())
	}
}

func TestGetWatch(t *testing.T) {
	ns := env.Namespace(t)
	create(t, gitRepository(ns, "app", ready(metav1.ConditionUnknown, meta.ProgressingReason, "cloning"), ""))

	var out, errOut testenv.SyncBuffer
	root := NewRoot(&out, &errOut)
	root.SetArgs([]string{"--kubeconfig", env.KubeconfigPath, "get", "gitrepo", "-n", ns, "--watch"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	testenv.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(out.String(), "cloning") {
			return errorf("no first table yet:\n%s", out.String())
		}
		return nil
	})
	repo := gitRepository(ns, "app", nil, "")
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(repo), repo); err != nil {
		t.Fatal(err)
	}
	repo.Status.Conditions = ready(metav1.ConditionTrue, meta.SucceededReason, "stored artifact")
	if err := env.Client.Status().Update(ctx, repo); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(out.String(), "stored artifact") {
			return errorf("the change was not printed:\n%s", out.String())
		}
		return nil
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("--watch did not stop when its context was cancelled")
	}
	if n := strings.Count(out.String(), "NAME"); n != 1 {
		t.Errorf("want one header, got %d:\n%s", n, out.String())
	}
}
