package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
)

func init() { register(newEventsCmd) }

type eventsOptions struct {
	allNamespaces bool
	forObject     string
	watch         bool
	types         []string
	noHeaders     bool
	print         *genericclioptions.PrintFlags
}

func newEventsCmd(g *Globals) *cobra.Command {
	o := &eventsOptions{print: genericclioptions.NewPrintFlags("").WithTypeSetter(Scheme())}
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Show the Kubernetes Events of Weir objects",
		Long: "events lists the Events Weir's controllers recorded about Weir objects, newest last; with\n" +
			"--watch it then prints new ones as they are recorded, until interrupted.",
		Example: `  # Events of every Weir object in the namespace apps
  weir events -n apps

  # Events of one Kustomization
  weir events --for kustomization/apps -n apps

  # Warnings in every namespace, as they happen
  weir events -A --types Warning -w

  # As JSON, or only the messages
  weir events -n apps -o json
  weir events -n apps -o jsonpath='{range .items[*]}{.message}{"\n"}{end}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), g) },
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list events in every namespace")
	cmd.Flags().StringVar(&o.forObject, "for", "", "only the events of this object, as <kind>/<name>")
	cmd.Flags().BoolVarP(&o.watch, "watch", "w", false, "after listing, print new events as they are recorded, until interrupted")
	cmd.Flags().StringSliceVar(&o.types, "types", nil, "only events of these types: Normal, Warning")
	cmd.Flags().BoolVar(&o.noHeaders, "no-headers", false, "print the table without its header")
	o.print.AddFlags(cmd)
	// -o wide is the table with more columns: kubectl's own output names it so.
	cmd.Flag("output").Usage = "output format: empty or wide for a table, or " + strings.Join(o.print.AllowedFormats(), ", ")
	return cmd
}

// eventFilter selects the events of Weir objects that the flags ask for.
type eventFilter struct {
	only     *objects.Kind
	onlyName string
	types    []string
}

func (f *eventFilter) match(ev *corev1.Event) bool {
	gv, _ := schema.ParseGroupVersion(ev.InvolvedObject.APIVersion)
	if !objects.IsWeirGroup(gv.Group) {
		return false
	}
	if f.only != nil && (ev.InvolvedObject.Kind != f.only.Kind || ev.InvolvedObject.Name != f.onlyName) {
		return false
	}
	if len(f.types) == 0 {
		return true
	}
	for _, t := range f.types {
		if strings.EqualFold(t, ev.Type) {
			return true
		}
	}
	return false
}

func (o *eventsOptions) run(ctx context.Context, g *Globals) error {
	f := &eventFilter{}
	for _, t := range o.types {
		if !strings.EqualFold(t, corev1.EventTypeNormal) && !strings.EqualFold(t, corev1.EventTypeWarning) {
			return fmt.Errorf("--types %q: want Normal or Warning", t)
		}
		f.types = append(f.types, t)
	}
	if o.forObject != "" {
		kind, name, ok := strings.Cut(o.forObject, "/")
		if !ok || name == "" {
			return fmt.Errorf("--for %q: want <kind>/<name>, e.g. kustomization/apps", o.forObject)
		}
		k, err := objects.FindKind(kind)
		if err != nil {
			return err
		}
		f.only, f.onlyName = k, name
	}
	// A printer for -o json, yaml, name, jsonpath, go-template; nil for the tables.
	var printer printers.ResourcePrinter
	wide := false
	switch format := *o.print.OutputFormat; format {
	case "":
	case "wide":
		wide = true
	default:
		p, err := o.print.ToPrinter()
		if err != nil {
			return err
		}
		printer = p
	}
	c, err := g.Client()
	if err != nil {
		return err
	}
	namespace := g.Namespace()
	if o.allNamespaces {
		namespace = ""
	}
	if f.only != nil && namespace != "" {
		if _, err := getObject(ctx, c, f.only, namespace, f.onlyName); err != nil {
			return err
		}
	}
	var list corev1.EventList
	if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return apiError(err)
	}
	var events []corev1.Event
	for _, ev := range list.Items {
		if f.match(&ev) {
			events = append(events, ev)
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return objects.EventTime(events[i]).Before(objects.EventTime(events[j])) })
	rows := &eventRows{allNamespaces: o.allNamespaces, wide: wide, colour: isTerminal(g.Out)}
	switch {
	case printer != nil && !o.watch && *o.print.OutputFormat != "name":
		return printer.PrintObj(&corev1.EventList{Items: events}, g.Out)
	case printer != nil:
		// One by one: while watching, and for -o name, which prints no lists.
		for i := range events {
			if err := printer.PrintObj(&events[i], g.Out); err != nil {
				return err
			}
		}
	case len(events) == 0 && !o.watch:
		fmt.Fprintln(g.Err, "No events found.")
		return nil
	case len(events) > 0:
		if err := rows.write(g.Out, events, !o.noHeaders); err != nil {
			return err
		}
	}
	if !o.watch {
		return nil
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	return o.watchEvents(ctx, g, namespace, list.ResourceVersion, f, func(ev *corev1.Event) error {
		if printer != nil {
			return printer.PrintObj(ev, g.Out)
		}
		header := !o.noHeaders && len(events) == 0
		events = append(events, *ev)
		return rows.write(g.Out, []corev1.Event{*ev}, header)
	})
}

// watchEvents gives each event recorded or updated after resourceVersion that f matches to
// print, until ctx ends.
func (o *eventsOptions) watchEvents(ctx context.Context, g *Globals, namespace, resourceVersion string, f *eventFilter, print func(*corev1.Event) error) error {
	cfg, err := g.RESTConfig()
	if err != nil {
		return err
	}
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return err
	}
	w, err := wc.Watch(ctx, &corev1.EventList{}, client.InNamespace(namespace), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: resourceVersion}})
	if err != nil {
		return apiError(err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("the watch of events ended; run the command again")
			}
			e, isEvent := ev.Object.(*corev1.Event)
			if !isEvent || (ev.Type != watch.Added && ev.Type != watch.Modified) || !f.match(e) {
				continue
			}
			if err := print(e); err != nil {
				return err
			}
		}
	}
}

// eventRows prints events as table rows.
type eventRows struct {
	allNamespaces bool
	// wide adds the count, when the event was first seen and which controller recorded it.
	wide   bool
	colour bool
}

func (r *eventRows) write(w io.Writer, events []corev1.Event, header bool) error {
	t := &table{header: []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}, noHeader: !header}
	if r.wide {
		t.header = []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "FIRST SEEN", "SOURCE", "MESSAGE"}
	}
	if r.allNamespaces {
		t.header = append([]string{"NAMESPACE"}, t.header...)
	}
	for _, ev := range events {
		row := []string{
			duration.HumanDuration(time.Since(objects.EventTime(ev))),
			ev.Type,
			ev.Reason,
			strings.ToLower(ev.InvolvedObject.Kind) + "/" + ev.InvolvedObject.Name,
		}
		if r.wide {
			first := "-"
			if !ev.FirstTimestamp.IsZero() {
				first = duration.HumanDuration(time.Since(ev.FirstTimestamp.Time))
			}
			source := ev.ReportingController
			if source == "" {
				source = ev.Source.Component
			}
			row = append(row, fmt.Sprint(max(ev.Count, 1)), first, source)
		}
		row = append(row, strings.Join(strings.Fields(ev.Message), " "))
		if r.allNamespaces {
			row = append([]string{ev.Namespace}, row...)
		}
		t.rows = append(t.rows, row)
	}
	if r.colour {
		typeCol := 1
		if r.allNamespaces {
			typeCol = 2
		}
		t.colour = func(row, col int) string {
			if col == typeCol && t.rows[row][col] == corev1.EventTypeWarning {
				return colourRed
			}
			return ""
		}
	}
	return t.write(w)
}
