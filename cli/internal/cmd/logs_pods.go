package cmd

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/install"
)

// nameLabel names a controller's pods (app.kubernetes.io/name in deploy/).
const nameLabel = "app.kubernetes.io/name"

// podSources returns the logs of the controllers' pods, in the namespace of
// --controllers-namespace, else of the controllers' Deployments, else weir-system.
func (o *logsOptions) podSources(ctx context.Context, g *Globals) ([]logSource, error) {
	c, err := g.Client()
	if err != nil {
		return nil, err
	}
	cfg, err := g.RESTConfig()
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	namespace := o.controllers
	if namespace == "" {
		if namespace, err = controllersNamespace(ctx, c); err != nil {
			return nil, err
		}
	}
	pods, err := controllerPods(ctx, c, namespace)
	if err != nil {
		return nil, err
	}
	if len(pods) == 0 {
		return nil, fmt.Errorf("no pods of Weir's controllers in namespace %s: is Weir installed there? (--controllers-namespace names another)", namespace)
	}
	var out []logSource
	for _, p := range pods {
		out = append(out, &podLog{kube: kube, pod: p.pod, name: p.name, container: p.container, since: o.since, tail: o.tail, unfiltered: o.kind == "" && o.name == "" && o.level == ""})
	}
	return out, nil
}

// controllersNamespace is the one namespace Weir's controllers' Deployments are in, or
// weir-system when there are none.
func controllersNamespace(ctx context.Context, c client.Client) (string, error) {
	found, err := installedControllers(ctx, c)
	if err != nil {
		return "", apiError(err)
	}
	namespaces := map[string]bool{}
	for _, d := range found {
		namespaces[d.Namespace] = true
	}
	switch len(namespaces) {
	case 0:
		return install.DefaultNamespace, nil
	case 1:
		return found[0].Namespace, nil
	}
	return "", fmt.Errorf("Weir's controllers run in several namespaces (%v): name one with --controllers-namespace", keys(namespaces))
}

// controllerPod is a pod of one of Weir's controllers.
type controllerPod struct {
	pod client.ObjectKey
	// name is the controller's (its pods' app.kubernetes.io/name), or the pod's own name when
	// the controller has more than one pod.
	name      string
	container string
}

// controllerPods returns the pods of Weir's controllers in namespace, shards included: those
// deploy/ labels app.kubernetes.io/part-of=weir whose app.kubernetes.io/name is a controller's
// (kustomize-controller-shard1 is kustomize-controller's), sorted by controller and name.
// The container read is "manager", the controllers' in deploy/, or the pod's only one.
func controllerPods(ctx context.Context, c client.Client, namespace string) ([]controllerPod, error) {
	var list corev1.PodList
	if err := c.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{install.PartOfLabel: install.PartOfValue}); err != nil {
		return nil, apiError(err)
	}
	var out []controllerPod
	perName := map[string]int{}
	for _, p := range list.Items {
		name := p.Labels[nameLabel]
		isController := false
		for _, ctrl := range install.Controllers {
			if name == ctrl || strings.HasPrefix(name, ctrl+"-") {
				isController = true
			}
		}
		if !isController || p.DeletionTimestamp != nil {
			continue
		}
		container := ""
		for _, ct := range p.Spec.Containers {
			if ct.Name == "manager" || len(p.Spec.Containers) == 1 {
				container = ct.Name
			}
		}
		if container == "" {
			continue
		}
		perName[name]++
		out = append(out, controllerPod{pod: client.ObjectKeyFromObject(&p), name: name, container: container})
	}
	for i := range out {
		if perName[out[i].name] > 1 {
			out[i].name = out[i].pod.Name
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		return out[i].pod.Name < out[j].pod.Name
	})
	return out, nil
}

// podLog reads a controller pod's log through the pods/log subresource.
type podLog struct {
	kube      kubernetes.Interface
	pod       client.ObjectKey
	name      string
	container string
	since     time.Duration
	tail      int
	// unfiltered says every entry is shown, so --tail can be asked of the server.
	unfiltered bool
	// last is the time of read's newest entry, and lastRaw the entries logged at that time:
	// follow starts there and skips them.
	last    time.Time
	lastRaw map[string]bool
}

func (l *podLog) controller() string { return l.name }

func (l *podLog) options(follow bool) *corev1.PodLogOptions {
	opts := &corev1.PodLogOptions{Container: l.container, Follow: follow}
	if l.since > 0 {
		secs := int64(l.since.Seconds() + 0.999)
		opts.SinceSeconds = &secs
	}
	if !follow && l.unfiltered && l.tail >= 0 {
		tail := int64(l.tail)
		opts.TailLines = &tail
	}
	if follow && !l.last.IsZero() {
		opts.SinceSeconds = nil
		opts.SinceTime = &metav1.Time{Time: l.last}
	}
	return opts
}

func (l *podLog) stream(ctx context.Context, follow bool, emit func(*logEntry)) error {
	rc, err := l.kube.CoreV1().Pods(l.pod.Namespace).GetLogs(l.pod.Name, l.options(follow)).Stream(ctx)
	if err != nil {
		return fmt.Errorf("reading the log of pod %s: %w", l.pod.Name, err)
	}
	defer rc.Close()
	return readLogEntries(io.Reader(rc), l.name, emit)
}

func (l *podLog) read(ctx context.Context, emit func(*logEntry)) error {
	return l.stream(ctx, false, func(e *logEntry) {
		if e.Time.After(l.last) || l.lastRaw == nil {
			l.last, l.lastRaw = e.Time, map[string]bool{}
		}
		if e.Time.Equal(l.last) {
			l.lastRaw[e.raw] = true
		}
		emit(e)
	})
}

func (l *podLog) follow(ctx context.Context, emit func(*logEntry)) error {
	err := l.stream(ctx, true, func(e *logEntry) {
		// The server's sinceTime has a second's precision: skip what read already gave.
		if !l.last.IsZero() && (e.Time.Before(l.last) || e.Time.Equal(l.last) && l.lastRaw[e.raw]) {
			return
		}
		emit(e)
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}
