package local

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	sourcev1 "weir.dev/api/source/v1"
)

// PrintSummary writes the status table of e's processes and demo objects, and what to run next.
func (e *Env) PrintSummary(ctx context.Context, w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tPID\tSTATUS\tENDPOINTS\tLOG")
	fmt.Fprintf(tw, "etcd + kube-apiserver\t-\trunning\t%s\t-\n", e.APIServer)
	procs := append(append([]*Controller{}, e.cluster...), e.Controllers...)
	for _, c := range procs {
		status := "running"
		select {
		case <-c.done:
			status = "exited"
		default:
		}
		endpoints := "health " + c.HealthAddr
		if c.Serves != "" {
			endpoints = c.Serves + ", " + endpoints
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", c.Name, c.PID(), status, endpoints, c.LogPath)
	}
	tw.Flush()

	if d := e.Demo; d != nil {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "OBJECT (namespace %s)\tREADY\tSTATUS\n", DemoNamespace)
		objects := []client.Object{
			&sourcev1.GitRepository{}, &kustomizev1.Kustomization{}, &kustomizev1.Kustomization{},
			&sourcev1.HelmRepository{}, &helmv1.HelmRelease{},
			&notificationv1.Provider{}, &notificationv1.Alert{}, &notificationv1.Receiver{},
		}
		names := []string{"demo", d.Kustomizations[0], d.Kustomizations[1], "demo", d.HelmRelease, "printer", "demo", "demo"}
		for i, o := range objects {
			kind := fmt.Sprintf("%T", o)[len("*v1."):]
			ready, message := "Unknown", ""
			if err := e.Client.Get(ctx, client.ObjectKey{Namespace: DemoNamespace, Name: names[i]}, o); err != nil {
				message = err.Error()
			} else if c := apimeta.FindStatusCondition(o.(conditioned).GetConditions(), meta.ReadyCondition); c != nil {
				ready, message = string(c.Status), c.Message
			}
			fmt.Fprintf(tw, "%s/%s\t%s\t%s\n", kind, names[i], ready, message)
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nUse the cluster:\n  export KUBECONFIG=%s\n  kubectl get weir -A\n", e.KubeconfigPath)
	fmt.Fprintf(w, "\nSee it in the web UI (served on 127.0.0.1 only, with your kubeconfig's rights):\n  KUBECONFIG=%s weir ui --open\n", e.KubeconfigPath)
	if d := e.Demo; d != nil {
		fmt.Fprintf(w, "\nChange the demo app: push to its Git repository (a working copy is in %s)\n  git clone %s\n", d.WorkDir, d.GitURL)
		fmt.Fprintf(w, "The HelmRelease %q installs the chart %s %s of the Helm repository %s\n", d.HelmRelease, demoChartName, demoChartVersion, d.HelmRepositoryURL)
		fmt.Fprintf(w, "Reconcile the Git repository at once through the Receiver:\n  curl -X POST %s\n", d.ReceiverURL)
		fmt.Fprintln(w, "Notifications from the Alert are printed below as they arrive.")
	}
	down := "weir local down"
	if e.Dir != DefaultDir() {
		down += " --dir " + e.Dir
	}
	fmt.Fprintf(w, "\nPress Ctrl-C, or run `%s`, to stop.\n", down)
}
