package cmd

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/cli/internal/preview"
)

// planHelmReleaseDiff prints the full diff of a HelmRelease's pending plan: its chart rendered
// with its values as helm-controller renders it, against the live cluster (weir diff hr).
func planHelmReleaseDiff(ctx context.Context, g *Globals, c client.Client, u *unstructured.Unstructured, plan *meta.Plan) error {
	hr := &helmv1.HelmRelease{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, hr); err != nil {
		return err
	}
	r, err := preview.RenderHelmRelease(ctx, c, g.Kube, hr, preview.HelmOptions{})
	if err != nil {
		return err
	}
	if r.Revision != plan.Revision {
		fmt.Fprintf(g.Out, "! the chart is now at revision %s; the controller plans it next. Its diff:\n", r.Revision)
	}
	fmt.Fprintln(g.Out)
	_, err = preview.DiffHelmRelease(ctx, c, g.Kube, hr, r, g.Out)
	return err
}
