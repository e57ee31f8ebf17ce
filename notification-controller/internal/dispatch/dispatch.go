package dispatch

import (
	"context"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"weir.dev/notification-controller/internal/notifier"
	"weir.dev/pkg/metrics"
)

// Job is one notification to deliver.
type Job struct {
	// Provider names the destination, "namespace/name"; jobs of one Provider share its queues.
	Provider string
	// Type is the Provider's spec.type, the provider label of weir_notification_deliveries_total.
	Type string
	// Lane orders jobs: jobs of one Provider with the same Lane are delivered in order.
	Lane     string
	Notifier notifier.Notifier
	Event    *notifier.Event
	// Timeout bounds each attempt.
	Timeout time.Duration
}

// Backoff says how failed deliveries are retried.
type Backoff struct {
	// Initial is the wait after the first failure; each next wait doubles, up to Max.
	Initial, Max time.Duration
	// Attempts is the most deliveries tried per job, the first included.
	Attempts int
}

// DefaultBackoff tries 5 times over about 15 seconds.
var DefaultBackoff = Backoff{Initial: time.Second, Max: 30 * time.Second, Attempts: 5}

// Options configure a Dispatcher; zero fields take the defaults.
type Options struct {
	// Lanes per Provider (default 4).
	Lanes int
	// QueueSize is the most jobs waiting in one lane (default 1024); past it jobs are dropped
	// and logged, so a dead destination cannot exhaust memory.
	QueueSize int
	// Backoff of retries (default DefaultBackoff).
	Backoff Backoff
	// IdleTimeout stops a lane's goroutine after that long without work (default 5m).
	IdleTimeout time.Duration
	// Done, if set, is called when a job ends: delivered (err nil) or given up.
	Done func(j Job, err error, attempts int)
}

// Dispatcher runs the lanes. Create it with New.
type Dispatcher struct {
	ctx   context.Context
	opts  Options
	log   logr.Logger
	mu    sync.Mutex
	lanes map[string]chan Job
	wg    sync.WaitGroup
}

// New returns a Dispatcher that delivers until ctx ends.
func New(ctx context.Context, log logr.Logger, opts Options) *Dispatcher {
	if opts.Lanes <= 0 {
		opts.Lanes = 4
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	if opts.Backoff.Attempts <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 5 * time.Minute
	}
	return &Dispatcher{ctx: ctx, opts: opts, log: log, lanes: map[string]chan Job{}}
}

// Submit queues j and returns at once; false when j's lane is full or the dispatcher stopped.
func (d *Dispatcher) Submit(j Job) bool {
	if d.ctx.Err() != nil {
		return false
	}
	h := fnv.New32a()
	h.Write([]byte(j.Lane))
	key := j.Provider + "#" + strconv.Itoa(int(h.Sum32()%uint32(d.opts.Lanes)))
	d.mu.Lock()
	defer d.mu.Unlock()
	ch, ok := d.lanes[key]
	if !ok {
		ch = make(chan Job, d.opts.QueueSize)
		d.lanes[key] = ch
		d.wg.Add(1)
		go d.run(key, ch)
	}
	select {
	case ch <- j:
		return true
	default:
		d.log.Error(nil, "notification dropped: the provider's queue is full", "provider", j.Provider, "object", objectOf(j))
		metrics.NotificationDeliveries.WithLabelValues(j.Type, metrics.DeliveryDropped).Inc()
		return false
	}
}

// Wait blocks until every lane has stopped, after the context ended.
func (d *Dispatcher) Wait() { d.wg.Wait() }

// run delivers a lane's jobs one after the other, and stops when idle or when the context ends.
func (d *Dispatcher) run(key string, ch chan Job) {
	defer d.wg.Done()
	idle := time.NewTimer(d.opts.IdleTimeout)
	defer idle.Stop()
	for {
		select {
		case j := <-ch:
			attempts, err := d.deliver(j)
			countDelivery(j, err)
			if d.opts.Done != nil {
				d.opts.Done(j, err, attempts)
			}
			idle.Reset(d.opts.IdleTimeout)
		case <-idle.C:
			// Sends happen under the lock, so an empty lane removed here gets no more work.
			d.mu.Lock()
			if len(ch) == 0 {
				delete(d.lanes, key)
				d.mu.Unlock()
				return
			}
			d.mu.Unlock()
			idle.Reset(d.opts.IdleTimeout)
		case <-d.ctx.Done():
			return
		}
	}
}

// deliver posts j, retrying retryable failures with backoff; it returns the number of attempts
// and the last error.
func (d *Dispatcher) deliver(j Job) (int, error) {
	b := d.opts.Backoff
	wait := b.Initial
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(d.ctx, j.Timeout)
		err := j.Notifier.Post(ctx, j.Event)
		cancel()
		if err == nil {
			return attempt, nil
		}
		if !notifier.Retryable(err) || attempt >= b.Attempts || d.ctx.Err() != nil {
			d.log.Error(err, "notification not delivered", "provider", j.Provider, "object", objectOf(j), "attempts", attempt)
			return attempt, err
		}
		// Full jitter keeps many failing lanes from retrying in step; a Retry-After wins.
		delay := time.Duration(rand.Int64N(int64(wait) + 1))
		if ra := notifier.RetryAfter(err); ra > delay {
			delay = min(ra, b.Max)
		}
		d.log.V(1).Info("notification failed, retrying", "provider", j.Provider, "object", objectOf(j), "attempt", attempt, "in", delay.String(), "error", err.Error())
		select {
		case <-time.After(delay):
		case <-d.ctx.Done():
			return attempt, d.ctx.Err()
		}
		wait = min(2*wait, b.Max)
	}
}

func objectOf(j Job) string {
	if j.Event == nil {
		return ""
	}
	o := j.Event.InvolvedObject
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// countDelivery adds a job that ended with err to weir_notification_deliveries_total: delivered,
// or failed once retries were used up (or the dispatcher stopped).
func countDelivery(j Job, err error) {
	outcome := metrics.DeliveryDelivered
	if err != nil {
		outcome = metrics.DeliveryFailed
	}
	metrics.NotificationDeliveries.WithLabelValues(j.Type, outcome).Inc()
}
