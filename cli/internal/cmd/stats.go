package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"weir.dev/cli/internal/objects"
)

func init() { register(newStatsCmd) }

type statsOptions struct {
	allNamespaces bool
	output        string
	noHeaders     bool
}

// kindStats are the counts of one kind, or of all ("Total").
type kindStats struct {
	Kind        string `json:"kind"`
	Ready       int    `json:"ready"`
	Failing     int    `json:"failing"`
	Reconciling int    `json:"reconciling"`
	Suspended   int    `json:"suspended"`
	Total       int    `json:"total"`
	// Artifacts and ArtifactBytes count the objects with a status.artifact and sum its size.
	Artifacts     int   `json:"artifacts,omitempty"`
	ArtifactBytes int64 `json:"artifactBytes,omitempty"`
}

// stats is what `weir stats -o json|yaml` prints.
type stats struct {
	// Namespace is the namespace counted, "" for all.
	Namespace string      `json:"namespace,omitempty"`
	Kinds     []kindStats `json:"kinds"`
	Total     kindStats   `json:"total"`
}

func newStatsCmd(g *Globals) *cobra.Command {
	o := &statsOptions{}
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Count Weir objects by kind and state, and the storage their artifacts use",
		Long: "stats counts the Weir objects of each kind that are Ready, Failing (Ready=False, not retrying\n" +
			"now), Reconciling (not decided yet for their generation) and Suspended, and sums the size\n" +
			"of the sources' artifacts (status.artifact.size).",
		Example: `  # Every namespace
  weir stats -A

  # One namespace, as JSON
  weir stats -n apps -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), g) },
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "count objects in every namespace")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "output format: empty for a table, json or yaml")
	cmd.Flags().BoolVar(&o.noHeaders, "no-headers", false, "print the table without its header")
	return cmd
}

func (o *statsOptions) run(ctx context.Context, g *Globals) error {
	switch o.output {
	case "", "json", "yaml":
	default:
		return fmt.Errorf("unknown output format %q: want json, yaml or nothing", o.output)
	}
	c, err := g.Client()
	if err != nil {
		return err
	}
	namespace := g.Namespace()
	if o.allNamespaces {
		namespace = ""
	}
	s, err := countObjects(ctx, c, namespace)
	if err != nil {
		return err
	}
	switch o.output {
	case "json":
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(g.Out, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(s)
		if err != nil {
			return err
		}
		_, err = g.Out.Write(b)
		return err
	}
	t := &table{header: []string{"KIND", "READY", "FAILING", "RECONCILING", "SUSPENDED", "TOTAL", "ARTIFACTS"}, noHeader: o.noHeaders}
	for _, k := range append(s.Kinds, s.Total) {
		storage := "-"
		if k.Artifacts > 0 {
			storage = fmt.Sprintf("%s in %d", humanBytes(k.ArtifactBytes), k.Artifacts)
		}
		t.rows = append(t.rows, []string{k.Kind, strconv.Itoa(k.Ready), strconv.Itoa(k.Failing), strconv.Itoa(k.Reconciling),
			strconv.Itoa(k.Suspended), strconv.Itoa(k.Total), storage})
	}
	if isTerminal(g.Out) {
		t.colour = func(row, col int) string {
			if col == 2 && t.rows[row][col] != "0" {
				return colourRed
			}
			return ""
		}
	}
	return t.write(g.Out)
}

// countObjects counts the objects of every Weir kind in namespace ("" for all); kinds whose
// CRDs are not installed are left out, kinds without objects too.
func countObjects(ctx context.Context, c client.Client, namespace string) (*stats, error) {
	s := &stats{Namespace: namespace, Total: kindStats{Kind: "Total"}}
	for _, k := range objects.Kinds {
		list := k.NewList()
		if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
			if apimeta.IsNoMatchError(err) {
				continue
			}
			return nil, apiError(err)
		}
		if len(list.Items) == 0 {
			continue
		}
		ks := kindStats{Kind: k.Kind}
		for i := range list.Items {
			u := &list.Items[i]
			switch objects.StateOf(u) {
			case objects.StateReady:
				ks.Ready++
			case objects.StateFailing:
				ks.Failing++
			case objects.StateSuspended:
				ks.Suspended++
			default:
				ks.Reconciling++
			}
			ks.Total++
			if size, ok := artifactSize(u); ok {
				ks.Artifacts++
				ks.ArtifactBytes += size
			}
		}
		s.Kinds = append(s.Kinds, ks)
		s.Total.Ready += ks.Ready
		s.Total.Failing += ks.Failing
		s.Total.Reconciling += ks.Reconciling
		s.Total.Suspended += ks.Suspended
		s.Total.Total += ks.Total
		s.Total.Artifacts += ks.Artifacts
		s.Total.ArtifactBytes += ks.ArtifactBytes
	}
	return s, nil
}

// artifactSize is status.artifact.size; ok is false without an artifact.
func artifactSize(u *unstructured.Unstructured) (int64, bool) {
	a, found, _ := unstructured.NestedMap(u.Object, "status", "artifact")
	if !found || a == nil {
		return 0, false
	}
	size, _, _ := unstructured.NestedInt64(a, "size")
	return max(size, 0), true
}

// humanBytes writes n in binary units: 512 B, 1.5 KiB, 3.2 MiB.
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, unit := float64(n), ""
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f, unit = f/1024, u
		if f < 1024 {
			break
		}
	}
	return fmt.Sprintf("%.1f %s", f, unit)
}
