package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
)

func init() { register(newGetCmd) }

type getOptions struct {
	allNamespaces bool
	watch         bool
	output        string
}

func newGetCmd(g *Globals) *cobra.Command {
	o := &getOptions{}
	cmd := &cobra.Command{
		Use:   "get <kind>|all [name]",
		Short: "Show Weir objects and whether they are Ready",
		Long: "get lists Weir objects of a kind, or of every kind with `all`, with their Ready status,\n" +
			"status message, revision, suspension and age. Kinds: " + objects.KindNames() + ".",
		Example: `  # Every Weir object in every namespace
  weir get all -A

  # Kustomizations in the namespace apps, following changes until Ctrl-C
  weir get ks -n apps --watch

  # One HelmRelease as YAML
  weir get helmrelease podinfo -o yaml`,
		Args: cobra.RangeArgs(1, 2),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return kindCompletions(true), cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), g, args)
		},
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list objects in every namespace")
	cmd.Flags().BoolVarP(&o.watch, "watch", "w", false, "after listing, print objects as they change, until interrupted")
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: table, yaml or json")
	return cmd
}

func (o *getOptions) run(ctx context.Context, g *Globals, args []string) error {
	switch o.output {
	case "table", "yaml", "json":
	default:
		return fmt.Errorf("unknown output format %q: want table, yaml or json", o.output)
	}
	if o.watch && o.output != "table" {
		return fmt.Errorf("--watch prints a table: it cannot be combined with -o %s", o.output)
	}
	kinds := objects.Kinds
	if !strings.EqualFold(args[0], "all") {
		k, err := objects.FindKind(args[0])
		if err != nil {
			return err
		}
		kinds = []*objects.Kind{k}
	}
	name := ""
	if len(args) == 2 {
		if len(kinds) > 1 {
			return fmt.Errorf("a name needs a kind, not `all`")
		}
		name = args[1]
	}
	c, err := g.Client()
	if err != nil {
		return err
	}
	namespace := g.Namespace()
	if o.allNamespaces {
		namespace = ""
	}

	var found []*unstructured.Unstructured
	for _, k := range kinds {
		if name != "" {
			u, err := getObject(ctx, c, k, namespace, name)
			if err != nil {
				return err
			}
			found = append(found, u)
			continue
		}
		list := k.NewList()
		if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
			return apiError(err)
		}
		for i := range list.Items {
			found = append(found, &list.Items[i])
		}
	}
	sortObjects(found)

	switch o.output {
	case "yaml", "json":
		return printObjects(g, found, o.output, name != "")
	}
	if len(found) == 0 && !o.watch {
		where := "in namespace " + namespace
		if namespace == "" {
			where = "in any namespace"
		}
		what := "Weir objects"
		if len(kinds) == 1 {
			what = kinds[0].Plural
		}
		fmt.Fprintf(g.Err, "No %s found %s.\n", what, where)
		return nil
	}
	p := &rowPrinter{allNamespaces: o.allNamespaces, kindColumn: len(kinds) > 1, colour: isTerminal(g.Out)}
	if err := p.print(g, found, true); err != nil {
		return err
	}
	if !o.watch {
		return nil
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	return o.watchKinds(ctx, g, kinds, namespace, name, p, found)
}

// watchKinds prints a row for every change to an object of kinds until ctx ends.
func (o *getOptions) watchKinds(ctx context.Context, g *Globals, kinds []*objects.Kind, namespace, name string, p *rowPrinter, shown []*unstructured.Unstructured) error {
	cfg, err := g.RESTConfig()
	if err != nil {
		return err
	}
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return err
	}
	events := make(chan *unstructured.Unstructured)
	errs := make(chan error, len(kinds))
	for _, k := range kinds {
		opts := []client.ListOption{client.InNamespace(namespace)}
		if name != "" {
			opts = append(opts, client.MatchingFields{"metadata.name": name})
		}
		w, err := wc.Watch(ctx, k.NewList(), opts...)
		if err != nil {
			return apiError(err)
		}
		defer w.Stop()
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-w.ResultChan():
					if !ok {
						errs <- fmt.Errorf("the watch of %s ended; run the command again", k.Plural)
						return
					}
					u, isObject := ev.Object.(*unstructured.Unstructured)
					if !isObject || ev.Type == watch.Bookmark || ev.Type == watch.Error {
						continue
					}
					if ev.Type == watch.Deleted {
						u = u.DeepCopy()
						u.SetAnnotations(map[string]string{deletedAnnotation: "true"})
					}
					select {
					case events <- u:
					case <-ctx.Done():
						return
					}
				}
			}
		}()
	}
	// The first event of every object repeats what the table showed: skip those that did not change.
	seen := map[string]string{}
	key := func(u *unstructured.Unstructured) string {
		return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
	}
	for _, u := range shown {
		seen[key(u)] = rowKey(p.row(u))
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return err
		case u := <-events:
			row := rowKey(p.row(u))
			if seen[key(u)] == row {
				continue
			}
			seen[key(u)] = row
			if err := p.print(g, []*unstructured.Unstructured{u}, false); err != nil {
				return err
			}
		}
	}
}

// rowKey identifies what a row shows, leaving out the age, which changes by itself.
func rowKey(r []string) string { return strings.Join(r[:len(r)-1], "\x00") }

// deletedAnnotation marks, inside weir only, an object a watch reported deleted.
const deletedAnnotation = "weir.dev/cli-deleted"

// rowPrinter prints objects as rows of the get table.
type rowPrinter struct {
	allNamespaces bool
	kindColumn    bool
	colour        bool
}

func (p *rowPrinter) header() []string {
	h := []string{"NAME", "READY", "STATUS", "REVISION", "SUSPENDED", "AGE"}
	if p.allNamespaces {
		h = append([]string{"NAMESPACE"}, h...)
	}
	return h
}

// row returns an object's cells.
func (p *rowPrinter) row(u *unstructured.Unstructured) []string {
	name := u.GetName()
	if p.kindColumn {
		name = strings.ToLower(u.GetKind()) + "/" + name
	}
	ready, status, width := "Unknown", "", 60
	if c := objects.ReadyCondition(u); c != nil {
		ready, status = string(c.Status), c.Message
		if c.Reason == meta.DependencyNotReadyReason {
			// Which dependency, its state and since when come first in the message: keep them.
			width = 140
		}
	}
	if u.GetAnnotations()[deletedAnnotation] == "true" {
		ready, status = "Deleted", ""
	}
	revision := ""
	if k := objects.KindByGVK(u.GroupVersionKind()); k != nil {
		revision = k.Revision(u)
	}
	age := "<unknown>"
	if t := u.GetCreationTimestamp(); !t.IsZero() {
		age = duration.HumanDuration(time.Since(t.Time))
	}
	r := []string{name, ready, objects.Shorten(status, width), objects.Shorten(revision, 50), fmt.Sprint(objects.IsSuspended(u)), age}
	if p.allNamespaces {
		r = append([]string{u.GetNamespace()}, r...)
	}
	return r
}

func (p *rowPrinter) print(g *Globals, objects []*unstructured.Unstructured, header bool) error {
	t := &table{header: p.header(), noHeader: !header}
	readyCol := 1
	if p.allNamespaces {
		readyCol = 2
	}
	for _, u := range objects {
		t.rows = append(t.rows, p.row(u))
	}
	if p.colour {
		t.colour = func(row, col int) string {
			if col != readyCol {
				return ""
			}
			return readyColour(t.rows[row][col])
		}
	}
	return t.write(g.Out)
}

// sortObjects orders objects by kind (as listed in objects.Kinds), namespace and name.
func sortObjects(list []*unstructured.Unstructured) {
	order := map[string]int{}
	for i, k := range objects.Kinds {
		order[k.Kind] = i
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.GetKind() != b.GetKind() {
			return order[a.GetKind()] < order[b.GetKind()]
		}
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

// printObjects prints objects as YAML or JSON: one object when single, a List otherwise.
// Managed fields are left out, as kubectl does.
func printObjects(g *Globals, objects []*unstructured.Unstructured, format string, single bool) error {
	items := []any{}
	for _, u := range objects {
		u = u.DeepCopy()
		u.SetManagedFields(nil)
		items = append(items, u.Object)
	}
	var doc any = map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
	if single && len(items) == 1 {
		doc = items[0]
	}
	var out []byte
	var err error
	if format == "json" {
		out, err = json.MarshalIndent(doc, "", "  ")
		out = append(out, '\n')
	} else {
		out, err = yaml.Marshal(doc)
	}
	if err != nil {
		return err
	}
	_, err = g.Out.Write(out)
	return err
}
