package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/event"
	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
)

// How a health wait watches for news and reports progress.
const (
	// waitWatchInterval is how often a health wait looks (in the cache) for a new source
	// revision or a new generation of the Kustomization.
	waitWatchInterval = time.Second
	// progressInterval is the least time between two progress patches of one wait.
	progressInterval = 5 * time.Second
)

// errSuperseded is the cause of a health wait canceled by news.
var errSuperseded = errors.New("superseded")

// supersededError says what canceled a health wait.
type supersededError struct{ news string }

func (e *supersededError) Error() string { return e.news }
func (e *supersededError) Unwrap() error { return errSuperseded }

// waitHealthy waits within spec.timeout for set to become healthy, as reconcileHealth
// describes. As soon as the first look at the objects finds one not healthy, it records in
// status what is waited for (Ready=Unknown HealthCheckInProgress, Reconciling=True, and
// status.lastHandledReconcileAt), and updates that as objects become ready, at most every
// progressInterval; a set healthy at once writes nothing, so Ready does not flap. A new source
// revision, a new generation or a new reconcile request arriving during the wait cancels it:
// the result is then a *supersededError.
func (r *KustomizationReconciler) waitHealthy(ctx context.Context, sc *ksScope, set object.ObjMetadataSet, poller *polling.StatusPoller) error {
	obj := sc.obj
	progress := &waitProgress{head: fmt.Sprintf("applied revision %s", sc.artifact.Revision), set: set,
		timeout: obj.GetTimeout(), statuses: map[object.ObjMetadata]status.Status{}}
	waitCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchCtx, stopWatch := context.WithCancel(waitCtx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.watchWait(watchCtx, sc, progress, poller, cancel)
	}()
	err := sc.manager.WaitForSetWithContext(waitCtx, set, ssa.WaitOptions{Interval: ssaWaitInterval, Timeout: obj.GetTimeout()})
	stopWatch()
	wg.Wait() // no progress patch may follow the run's own
	if cause := context.Cause(waitCtx); errors.Is(cause, errSuperseded) && ctx.Err() == nil {
		return cause
	}
	return err
}

// watchWait cancels the wait with a *supersededError when news arrives (see news), and patches the wait's progress, until ctx
// ends.
func (r *KustomizationReconciler) watchWait(ctx context.Context, sc *ksScope, p *waitProgress, poller *polling.StatusPoller, cancel context.CancelCauseFunc) {
	var events <-chan event.Event
	if poller != nil {
		events = poller.Poll(ctx, p.set, polling.PollOptions{PollInterval: ssaWaitInterval})
	}
	tick := time.NewTicker(waitWatchInterval)
	defer tick.Stop()
	var lastPatch time.Time
	lastMsg := ""
	report := func(force bool) {
		msg, waiting := p.message()
		if !waiting || msg == lastMsg || (!force && time.Since(lastPatch) < progressInterval) {
			return
		}
		if err := r.patchProgress(ctx, sc.obj, msg); err != nil {
			if ctx.Err() == nil {
				log.FromContext(ctx).Info("recording the health wait in status failed", "error", err.Error())
			}
			return
		}
		lastPatch, lastMsg = time.Now(), msg
	}
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if e.Type == event.ResourceUpdateEvent && e.Resource != nil {
				p.statuses[e.Resource.Identifier] = e.Resource.Status
			}
			// The first complete look is written at once: the wait has begun.
			report(lastMsg == "" && len(p.statuses) >= len(p.set))
		case <-tick.C:
			if news := r.news(ctx, sc); news != "" {
				cancel(&supersededError{news: news})
				return
			}
			report(lastMsg == "" && time.Since(sc.started) > progressInterval)
		}
	}
}

// news says what arrived since the run started: a new generation of the Kustomization, a new
// reconcile request (the user asked for a reconcile now), or a new artifact revision of the
// source; "" when nothing (or when it cannot tell).
func (r *KustomizationReconciler) news(ctx context.Context, sc *ksScope) string {
	obj := sc.obj
	var live kustomizev1.Kustomization
	if err := r.Get(ctx, client.ObjectKeyFromObject(obj), &live); err == nil {
		if live.Generation != obj.Generation {
			return fmt.Sprintf("generation %d arrived", live.Generation)
		}
		token, ok := meta.ReconcileAnnotationValue(live.GetAnnotations())
		if handled, _ := meta.ReconcileAnnotationValue(obj.GetAnnotations()); ok && token != handled {
			return fmt.Sprintf("reconcile request %q arrived", token)
		}
	}
	ref := obj.Spec.SourceRef
	key := client.ObjectKey{Namespace: refNamespace(ref.Namespace, obj.Namespace), Name: ref.Name}
	var src interface {
		client.Object
		GetArtifact() *meta.Artifact
	}
	switch ref.Kind {
	case sourcev1.GitRepositoryKind:
		src = &sourcev1.GitRepository{}
	case sourcev1.OCIRepositoryKind:
		src = &sourcev1.OCIRepository{}
	default:
		return ""
	}
	if err := r.Get(ctx, key, src); err != nil || src.GetArtifact() == nil {
		return ""
	}
	if rev := src.GetArtifact().Revision; rev != sc.artifact.Revision {
		return fmt.Sprintf("revision %s arrived", rev)
	}
	return ""
}

// patchProgress marks obj (the run's own: the steps are blocked in the wait) in progress
// with msg and writes it through the run's patcher, with what the run did so far (the
// reconcile request handled, the attempted revision, the inventory applied), so that users
// and `weir reconcile` see the wait before it ends. It is not canceled with the wait: a patch
// the API server applied is always known to the run's patcher.
func (r *KustomizationReconciler) patchProgress(ctx context.Context, obj *kustomizev1.Kustomization, msg string) error {
	conditions.MarkUnknown(obj, meta.ReadyCondition, kustomizev1.HealthCheckInProgressReason, "%s", msg)
	conditions.MarkReconciling(obj, kustomizev1.HealthCheckInProgressReason, "%s", msg)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), progressPatchTimeout)
	defer cancel()
	return steps.PatchNow(ctx)
}

// progressPatchTimeout bounds one progress patch.
const progressPatchTimeout = 10 * time.Second

// waitProgress is what a health wait knows of its objects. statuses is written and read by
// the watching goroutine only, after the first message.
type waitProgress struct {
	head     string
	set      object.ObjMetadataSet
	timeout  time.Duration
	statuses map[object.ObjMetadata]status.Status
}

// maxWaitNames bounds the objects a progress message names.
const maxWaitNames = 5

// message says what is waited for: "applied revision R; waiting for 2 of 3 objects
// (timeout 5m0s): Deployment/ns/web InProgress, …", naming the objects not yet Current, and
// whether any is not.
func (p *waitProgress) message() (string, bool) {
	var waiting []string
	for _, id := range p.set {
		s, ok := p.statuses[id]
		if ok && s == status.CurrentStatus {
			continue
		}
		if !ok {
			s = status.UnknownStatus
		}
		waiting = append(waiting, fmt.Sprintf("%s %s", objectName(id), s))
	}
	count := fmt.Sprintf("%d objects", len(p.set))
	if len(p.set) == 1 {
		count = "1 object"
	}
	if len(waiting) < len(p.set) {
		count = fmt.Sprintf("%d of %s", len(waiting), count)
	}
	if len(waiting) == 0 {
		return "", false
	}
	if len(waiting) > maxWaitNames {
		waiting = append(waiting[:maxWaitNames], fmt.Sprintf("and %d more", len(waiting)-maxWaitNames))
	}
	return fmt.Sprintf("%s; waiting for %s (timeout %s): %s", p.head, count, p.timeout, strings.Join(waiting, ", ")), true
}

// objectName is Kind/namespace/name, or Kind/name for cluster-scoped objects.
func objectName(id object.ObjMetadata) string {
	if id.Namespace == "" {
		return fmt.Sprintf("%s/%s", id.GroupKind.Kind, id.Name)
	}
	return fmt.Sprintf("%s/%s/%s", id.GroupKind.Kind, id.Namespace, id.Name)
}

// superseded turns a canceled wait into the outcome that makes the new revision or
// generation reconcile at once: a wait with a short requeue (the watch that saw the news has
// queued the Kustomization already).
func superseded(sc *ksScope, err error) error {
	return steps.Waiting(kustomizev1.HealthCheckCanceledReason, time.Second,
		fmt.Errorf("health check of revision %s canceled: %w", sc.artifact.Revision, err))
}
