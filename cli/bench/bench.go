package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/local"
	weirscheme "weir.dev/pkg/scheme"
)

// benchNamespace holds the GitRepository, the HelmRepository, the Kustomizations and the
// HelmReleases.
const benchNamespace = "bench"

// workers is how many requests the harness sends at once when it creates or patches a fleet.
const workers = 16

// bench is one environment under measurement.
type bench struct {
	ctx context.Context
	cfg *config
	env *local.Env
	// c is the harness's own client, with a client-side rate limit high enough not to slow
	// down the setup.
	c client.Client
	// restConfig is the administrator's configuration, for the raw apply baseline's client.
	restConfig *rest.Config
	dir        string
	n          int
	closers    []func()
}

func newBench(ctx context.Context, cfg *config, env *local.Env, dir string, n int) (*bench, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", env.KubeconfigPath)
	if err != nil {
		return nil, err
	}
	own := rest.CopyConfig(rc)
	own.QPS, own.Burst = 2000, 4000
	c, err := client.New(own, client.Options{Scheme: weirscheme.New()})
	if err != nil {
		return nil, err
	}
	b := &bench{ctx: ctx, cfg: cfg, env: env, c: c, restConfig: rc, dir: dir, n: n}
	if err := b.createNamespace(benchNamespace); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *bench) close() {
	for _, f := range slices.Backward(b.closers) {
		f()
	}
}

// parallel calls f(0) … f(n-1) from workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// poll is the interval of the Lists that watch a fleet: -poll, or by default 200ms, longer
// above N=200 (N milliseconds, at most 1s), so that decoding ever larger lists in this process
// does not take much CPU from the controllers it measures on a small machine (the results
// report the harness's own CPU seconds next to the controllers').
func (b *bench) poll() time.Duration {
	if b.cfg.poll > 0 {
		return b.cfg.poll
	}
	return min(max(200*time.Millisecond, time.Duration(b.n)*time.Millisecond), time.Second)
}

// requestReconcile sets the reconcile-request annotation of o to token, as `weir reconcile` and
// a Receiver do.
func (b *bench) requestReconcile(o client.Object, token string) error {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, meta.ReconcileRequestAnnotation, token)
	return b.c.Patch(b.ctx, o, client.RawPatch(types.MergePatchType, []byte(patch)))
}

// newToken returns a reconcile-request value: the time now, as `weir reconcile` writes it.
func newToken() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// conditioned is a Weir object with status conditions.
type conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
}

// readyErr returns nil when o is Ready for its current generation, or why it is not.
func readyErr(o conditioned) error {
	ready := apimeta.FindStatusCondition(o.GetConditions(), meta.ReadyCondition)
	switch {
	case ready == nil:
		return fmt.Errorf("no Ready condition yet")
	case ready.ObservedGeneration != o.GetGeneration():
		return fmt.Errorf("generation %d not observed yet (Ready=%s %s: %s)", o.GetGeneration(), ready.Status, ready.Reason, ready.Message)
	case ready.Status != metav1.ConditionTrue:
		return fmt.Errorf("Ready=%s %s: %s", ready.Status, ready.Reason, ready.Message)
	}
	return nil
}

// waitFor calls check every interval until it returns done, an error, or the harness's
// timeout passes. check returns a description of what is still missing, used in the timeout
// error.
func (b *bench) waitFor(what string, interval time.Duration, check func() (done bool, missing string, err error)) error {
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.timeout)
	defer cancel()
	missing := "nothing observed yet"
	for {
		done, m, err := check()
		if err != nil && b.ctx.Err() == nil {
			// A failed read is retried: the API server may be busy.
			m = "last read failed: " + err.Error()
		}
		if done {
			return nil
		}
		if m != "" {
			missing = m
		}
		select {
		case <-ctx.Done():
			if b.ctx.Err() != nil {
				return fmt.Errorf("interrupted while waiting for %s", what)
			}
			return fmt.Errorf("timed out after %s waiting for %s: %s", b.cfg.timeout, what, missing)
		case <-time.After(interval):
		}
	}
}

// notReadyReport describes the first few objects that are not ready, for a timeout error.
type notReadyReport struct {
	count int
	first []string
}

func (r *notReadyReport) add(name string, why error) {
	r.count++
	if len(r.first) < 5 {
		r.first = append(r.first, fmt.Sprintf("%s: %v", name, why))
	}
}

func (r *notReadyReport) String() string {
	if r.count == 0 {
		return ""
	}
	return fmt.Sprintf("%d not ready, e.g.\n    %s", r.count, strings.Join(r.first, "\n    "))
}

// quantile returns the q-quantile (0 ≤ q ≤ 1) of sorted values, by the nearest rank.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func median(values []float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
