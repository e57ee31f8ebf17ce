package testenv_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/pkg/testenv"
)

// TestFaultProxy passes requests through to the real API server, fails them in each mode while
// a window lasts, ends the window by itself, refuses unknown clients and records writes.
func TestFaultProxy(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	proxy, err := testenv.StartFaultProxy(ctx, env.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	kubeconfig, err := proxy.Kubeconfig("tester")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ns := env.Namespace(t)
	cm := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"k": "v"}}
	}
	if err := c.Create(ctx, cm("through")); err != nil {
		t.Fatalf("create through the proxy: %v", err)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "through"}, &corev1.ConfigMap{}); err != nil {
		t.Fatalf("the object created through the proxy: %v", err)
	}

	// 500 for every request while the window lasts; the message says who failed it.
	proxy.Inject(testenv.Fault{Mode: testenv.InternalError, For: time.Minute})
	err = c.Create(ctx, cm("failed"))
	if !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), testenv.FaultMessage) {
		t.Errorf("create during a 500 window: %v", err)
	}
	// 429 with Retry-After, seen raw (client-go would retry it 10 times).
	proxy.Inject(testenv.Fault{Mode: testenv.TooManyRequests, RetryAfter: 3, For: time.Minute})
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(cfg.Host + "/api/v1/namespaces/" + ns + "/configmaps")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" {
		t.Errorf("during a 429 window: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	// A stalled request lasts until the client gives up.
	proxy.Inject(testenv.Fault{Mode: testenv.Hang, For: time.Minute})
	short, cancelShort := context.WithTimeout(ctx, time.Second)
	err = c.Get(short, client.ObjectKey{Namespace: ns, Name: "through"}, &corev1.ConfigMap{})
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("get during a stall: %v, want the client's deadline", err)
	}
	// A stalled request gets 504 when the window ends, and the window ends by itself.
	proxy.Inject(testenv.Fault{Mode: testenv.Hang, For: 2 * time.Second})
	err = c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "through"}, &corev1.ConfigMap{})
	if !apierrors.IsTimeout(err) || !strings.Contains(err.Error(), testenv.FaultMessage) {
		t.Errorf("get stalled until the window ended: %v", err)
	}
	if err := c.Create(ctx, cm("after")); err != nil {
		t.Errorf("create after the window: %v", err)
	}
	injected := proxy.Injected()
	if injected[testenv.InternalError] != 1 || injected[testenv.TooManyRequests] != 1 || injected[testenv.Hang] != 2 {
		t.Errorf("injected %v", injected)
	}

	// Half the requests fail with a fraction of 0.5.
	proxy.Inject(testenv.Fault{Mode: testenv.InternalError, Fraction: 0.5, For: time.Minute})
	failed := 0
	for range 200 {
		resp, err := hc.Get(cfg.Host + "/api/v1/namespaces/" + ns + "/configmaps/through")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusInternalServerError {
			failed++
		}
	}
	if failed < 60 || failed > 140 {
		t.Errorf("%d of 200 requests failed with a fraction of 0.5", failed)
	}
	proxy.Inject(testenv.Fault{Mode: testenv.InternalError, Clients: []string{"someone else"}, For: time.Minute})
	if err := c.Create(ctx, cm("other-client")); err != nil {
		t.Errorf("create while another client's requests fail: %v", err)
	}
	proxy.Inject(testenv.Fault{Mode: testenv.InternalError, Spare: testenv.SpareLeases, For: time.Minute})
	if err := c.List(ctx, &coordinationv1.LeaseList{}, client.InNamespace(ns)); err != nil {
		t.Errorf("list Leases while all but Leases fail: %v", err)
	}
	if err := c.List(ctx, &corev1.ConfigMapList{}, client.InNamespace(ns)); !apierrors.IsInternalError(err) {
		t.Errorf("list ConfigMaps while all but Leases fail: %v", err)
	}

	// Only the clients it issued a kubeconfig to get through.
	anonymous := rest.CopyConfig(cfg)
	anonymous.BearerToken = ""
	ahc, err := rest.HTTPClientFor(anonymous)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = ahc.Get(cfg.Host + "/api")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a request without the token: %s", resp.Status)
	}

	var writes []string
	for _, r := range proxy.Requests() {
		if r.Client != "tester" {
			t.Errorf("request recorded for client %q", r.Client)
		}
		writes = append(writes, r.Method+" "+r.Path)
	}
	if len(writes) != 4 || !strings.HasSuffix(writes[0], "/configmaps") {
		t.Errorf("recorded writes %v, want the 4 creates", writes)
	}
}
