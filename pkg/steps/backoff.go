package steps

import (
	"context"
	"sync"
	"time"

	runtimectrl "github.com/fluxcd/pkg/runtime/controller"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Backoff is the rate limiter of a controller's transient retries. An object's delay doubles
// with each consecutive failure, from MinRetryDelay to MaxRetryDelay (fluxcd/pkg/runtime's
// exponential limiter and its --min-retry-delay and --max-retry-delay flags), and never exceeds
// the bound the reconciler gives for that object, e.g. its retry interval. A success, or a
// fixed requeue, forgets the object's failures.
//
// Give it to the controller as controller.Options.RateLimiter and call Retry when a reconcile
// ends in a transient failure: Retry logs the failure with its attempt and delay, and the delay
// it logs is the one controller-runtime then waits.
type Backoff struct {
	limiter workqueue.TypedRateLimiter[reconcile.Request]

	mu      sync.Mutex
	pending map[reconcile.Request]time.Duration // Retry's delays, for the When that follows
}

var _ workqueue.TypedRateLimiter[reconcile.Request] = &Backoff{}

// Defaults of a Backoff's delays, fluxcd/pkg/runtime's flag defaults.
const (
	DefaultMinRetryDelay = 750 * time.Millisecond
	DefaultMaxRetryDelay = 15 * time.Minute
)

// NewBackoff returns a Backoff with opts' delays; a zero delay means its default.
func NewBackoff(opts runtimectrl.RateLimiterOptions) *Backoff {
	if opts.MinRetryDelay <= 0 {
		opts.MinRetryDelay = DefaultMinRetryDelay
	}
	if opts.MaxRetryDelay <= 0 {
		opts.MaxRetryDelay = DefaultMaxRetryDelay
	}
	return &Backoff{limiter: runtimectrl.GetRateLimiter(opts), pending: map[reconcile.Request]time.Duration{}}
}

// Retry records a transient failure of req, logs it through ctx's logger (which names the
// object) with the outcome's reason and message, the attempt, the delay and keysAndValues, and
// returns the outcome's error for controller-runtime to requeue with that delay. bound, when
// positive, caps the delay.
func (b *Backoff) Retry(ctx context.Context, req reconcile.Request, o Outcome, bound time.Duration, keysAndValues ...any) (ctrl.Result, error) {
	attempt, delay := b.next(req, bound)
	kv := append([]any{"reason", o.Reason, "attempt", attempt, "retryIn", delay.String(), "error", o.Message}, keysAndValues...)
	log.FromContext(ctx).Info("reconcile failed, retrying with backoff", kv...)
	return ctrl.Result{}, o.Err
}

// next counts one more failure of req and returns how many there have been in a row and the
// delay before the retry, at most bound when bound is positive.
func (b *Backoff) next(req reconcile.Request, bound time.Duration) (int, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delay := b.limiter.When(req)
	if bound > 0 && delay > bound {
		delay = bound
	}
	b.pending[req] = delay
	return b.limiter.NumRequeues(req), delay
}

// When is the delay before req is retried: the one Retry computed, or else the next
// exponential one.
func (b *Backoff) When(req reconcile.Request) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d, ok := b.pending[req]; ok {
		delete(b.pending, req)
		return d
	}
	return b.limiter.When(req)
}

// Forget clears req's failures.
func (b *Backoff) Forget(req reconcile.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.pending, req)
	b.limiter.Forget(req)
}

// NumRequeues is how many times in a row req has failed.
func (b *Backoff) NumRequeues(req reconcile.Request) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limiter.NumRequeues(req)
}
