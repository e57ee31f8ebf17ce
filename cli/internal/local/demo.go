package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	sourcev1 "weir.dev/api/source/v1"
)

// DemoNamespace holds every demo object and the objects the demo applies.
const DemoNamespace = "weir-demo"

// Demo is the running demo: a Git server with the sample repository, the GitRepository and
// Kustomizations that apply it, a Helm repository with a chart a HelmRelease installs, and a
// generic-webhook Provider, Alert and Receiver.
type Demo struct {
	// GitURL is the sample repository's URL, to clone and push to.
	GitURL string
	// WorkDir is a working copy of the sample repository.
	WorkDir string
	// Revision is the revision of the sample repository's first commit (main@sha1:<hash>).
	Revision string
	// ReceiverURL is the Receiver's webhook: a POST to it reconciles the GitRepository at once.
	ReceiverURL string
	// Kustomizations are the names of the demo's Kustomizations, in DemoNamespace.
	Kustomizations []string
	// HelmRepositoryURL is the demo's Helm chart repository.
	HelmRepositoryURL string
	// HelmRelease is the name of the demo's HelmRelease, in DemoNamespace.
	HelmRelease string

	git     *gitServer
	helm    *helmRepository
	printer *notificationPrinter
}

// Notifications returns the events the demo's webhook received so far.
func (d *Demo) Notifications() []Notification { return d.printer.received() }

func (d *Demo) close() {
	if d.git != nil {
		d.git.close()
	}
	if d.helm != nil {
		d.helm.close()
	}
	if d.printer != nil {
		d.printer.close()
	}
}

// startDemo starts the demo's servers and objects and waits until the Kustomizations have
// applied the sample repository.
func (e *Env) startDemo(ctx context.Context) error {
	start := time.Now()
	d := &Demo{WorkDir: filepath.Join(e.Dir, "demo"), Kustomizations: []string{"app", "app-staging"}, HelmRelease: "hello"}
	e.Demo = d
	var err error
	if d.git, err = startGitServer(filepath.Join(e.Dir, "git")); err != nil {
		return err
	}
	if d.GitURL, d.Revision, err = d.git.createRepo(ctx, "demo", d.WorkDir, sampleRepo); err != nil {
		return err
	}
	if d.helm, err = startHelmRepository(demoChartName, demoChartVersion, demoChart); err != nil {
		return err
	}
	d.HelmRepositoryURL = d.helm.url
	if d.printer, err = startNotificationPrinter(func(n Notification) { e.printf("  notification: %s\n", n) }); err != nil {
		return err
	}
	c := e.Client
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: DemoNamespace}}
	if err := c.Create(ctx, ns); err != nil {
		return err
	}
	if e.opts.Lockdown {
		if err := onboardTenant(ctx, c, DemoNamespace); err != nil {
			return err
		}
	}
	receiverToken := make([]byte, 16)
	_, _ = rand.Read(receiverToken)

	// Notifications first, so the Alert forwards the sources' first events.
	objects := []client.Object{
		&notificationv1.Provider{
			ObjectMeta: metav1.ObjectMeta{Namespace: DemoNamespace, Name: "printer"},
			Spec:       notificationv1.ProviderSpec{Type: notificationv1.GenericProvider, Address: d.printer.url},
		},
		&notificationv1.Alert{
			ObjectMeta: metav1.ObjectMeta{Namespace: DemoNamespace, Name: "demo"},
			Spec: notificationv1.AlertSpec{
				ProviderRef:   meta.LocalObjectReference{Name: "printer"},
				EventSeverity: notificationv1.EventSeverityInfo,
				EventSources: []notificationv1.CrossNamespaceObjectReference{
					{Kind: sourcev1.GitRepositoryKind, Name: "*"},
					{Kind: kustomizev1.KustomizationKind, Name: "*"},
					{Kind: sourcev1.HelmRepositoryKind, Name: "*"},
					{Kind: helmv1.HelmReleaseKind, Name: "*"},
				},
			},
		},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: DemoNamespace, Name: "receiver-token"},
			StringData: map[string]string{"token": hex.EncodeToString(receiverToken)},
		},
		&notificationv1.Receiver{
			ObjectMeta: metav1.ObjectMeta{Namespace: DemoNamespace, Name: "demo"},
			Spec: notificationv1.ReceiverSpec{
				Type:      notificationv1.GenericReceiver,
				SecretRef: meta.LocalObjectReference{Name: "receiver-token"},
				Resources: []notificationv1.CrossNamespaceObjectReference{{Kind: sourcev1.GitRepositoryKind, Name: "demo"}},
			},
		},
	}
	for _, o := range objects {
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	receiver := objects[3].(*notificationv1.Receiver)
	// The Receiver's path may be written after its Ready condition: wait for both, so the
	// summary never prints a URL without its /hook/… path.
	hasPath := func() error {
		if receiver.Status.WebhookPath == "" {
			return errors.New("no status.webhookPath yet")
		}
		return nil
	}
	for _, o := range []client.Object{objects[0], objects[1], objects[3]} {
		var check func() error
		if o == receiver {
			check = hasPath
		}
		if err := e.waitReady(ctx, o, check); err != nil {
			return err
		}
	}
	d.ReceiverURL = "http://" + e.receiverAddr + receiver.Status.WebhookPath

	sources := []client.Object{
		&sourcev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: DemoNamespace, Name: "demo"},
			Spec: sourcev1.GitRepositorySpec{
				URL:       d.GitURL,
				Interval:  metav1.Duration{Duration: time.Minute},
				Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
			},
		},
		demoKustomization(d.Kustomizations[0], "./app", e.HasNode),
		demoKustomization(d.Kustomizations[1], "./overlays/staging", e.HasNode),
		&sourcev1.HelmRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: DemoNamespace, Name: "demo"},
			Spec:       sourcev1.HelmRepositorySpec{URL: d.HelmRepositoryURL, Interval: &metav1.Duration{Duration: 5 * time.Minute}},
		},
		&helmv1.HelmRelease{
			ObjectMeta: metav1.ObjectMeta{Namespace: DemoNamespace, Name: d.HelmRelease},
			Spec: helmv1.HelmReleaseSpec{
				Interval: metav1.Duration{Duration: 5 * time.Minute},
				Chart: &helmv1.HelmChartTemplate{Spec: helmv1.HelmChartTemplateSpec{
					Chart:     demoChartName,
					Version:   demoChartVersion,
					SourceRef: helmv1.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: "demo"},
				}},
				Values: &apiextensionsv1.JSON{Raw: []byte(`{"message":"Hello from the HelmRelease's values"}`)},
			},
		},
	}
	for _, o := range sources {
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	for _, o := range sources {
		var check func() error
		if ks, ok := o.(*kustomizev1.Kustomization); ok {
			check = func() error {
				if ks.Status.LastAppliedRevision != d.Revision {
					return fmt.Errorf("applied %q, not %q yet", ks.Status.LastAppliedRevision, d.Revision)
				}
				return nil
			}
		}
		if err := e.waitReady(ctx, o, check); err != nil {
			return err
		}
	}
	e.printf("  ✓ demo applied %s (%s)\n", d.Revision, since(start))
	return nil
}

// demoKustomization applies path of the demo repository; with wait, it is Ready only once
// every object it applied is healthy (Deployments Available), which needs a node.
func demoKustomization(name, path string, wait bool) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: DemoNamespace, Name: name},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef:       kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "demo"},
			Path:            path,
			Interval:        metav1.Duration{Duration: 5 * time.Minute},
			Timeout:         &metav1.Duration{Duration: time.Minute},
			Prune:           true,
			Wait:            wait,
			TargetNamespace: DemoNamespace,
		},
	}
}

// conditioned is a Weir object with status conditions.
type conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
}

// waitReady polls o until its Ready condition is True for its generation and check (if any)
// passes, and prints a progress line.
func (e *Env) waitReady(ctx context.Context, o client.Object, check func() error) error {
	start := time.Now()
	kind := fmt.Sprintf("%T", o)[len("*v1."):]
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	last := fmt.Errorf("not observed yet")
	for {
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err == nil {
			last = readyErr(o)
			if last == nil && check != nil {
				last = check()
			}
			if last == nil {
				e.printf("  ✓ %s/%s ready (%s)\n", kind, o.GetName(), since(start))
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				return fmt.Errorf("interrupted while waiting for %s %s/%s", kind, o.GetNamespace(), o.GetName())
			}
			return fmt.Errorf("%s %s/%s not ready: %v", kind, o.GetNamespace(), o.GetName(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// readyErr returns nil when o is Ready for its current generation, or why it is not.
func readyErr(o client.Object) error {
	co, ok := o.(conditioned)
	if !ok {
		return nil
	}
	ready := apimeta.FindStatusCondition(co.GetConditions(), meta.ReadyCondition)
	switch {
	case ready == nil:
		return fmt.Errorf("no Ready condition yet")
	case ready.ObservedGeneration != o.GetGeneration():
		return fmt.Errorf("generation %d not observed yet", o.GetGeneration())
	case ready.Status != metav1.ConditionTrue:
		return fmt.Errorf("%s: %s", ready.Reason, ready.Message)
	}
	return nil
}
