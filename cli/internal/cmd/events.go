package cmd

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
)

func init() { register(newEventsCmd) }

type eventsOptions struct {
	allNamespaces bool
	forObject     string
}

func newEventsCmd(g *Globals) *cobra.Command {
	o := &eventsOptions{}
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Show the Kubernetes Events of Weir objects",
		Long:  "events lists the Events Weir's controllers recorded about Weir objects, newest last.",
		Example: `  # Events of every Weir object in the namespace apps
  weir events -n apps

  # Events of one Kustomization
  weir events --for kustomization/apps -n apps

  # Every namespace
  weir events -A`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), g) },
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list events in every namespace")
	cmd.Flags().StringVar(&o.forObject, "for", "", "only the events of this object, as <kind>/<name>")
	return cmd
}

func (o *eventsOptions) run(ctx context.Context, g *Globals) error {
	var only *objects.Kind
	onlyName := ""
	if o.forObject != "" {
		kind, name, ok := strings.Cut(o.forObject, "/")
		if !ok || name == "" {
			return fmt.Errorf("--for %q: want <kind>/<name>, e.g. kustomization/apps", o.forObject)
		}
		k, err := objects.FindKind(kind)
		if err != nil {
			return err
		}
		only, onlyName = k, name
	}
	c, err := g.Client()
	if err != nil {
		return err
	}
	namespace := g.Namespace()
	if o.allNamespaces {
		namespace = ""
	}
	if only != nil && namespace != "" {
		if _, err := getObject(ctx, c, only, namespace, onlyName); err != nil {
			return err
		}
	}
	var list corev1.EventList
	if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return apiError(err)
	}
	var events []corev1.Event
	for _, ev := range list.Items {
		gv, _ := schema.ParseGroupVersion(ev.InvolvedObject.APIVersion)
		if !objects.IsWeirGroup(gv.Group) {
			continue
		}
		if only != nil && (ev.InvolvedObject.Kind != only.Kind || ev.InvolvedObject.Name != onlyName) {
			continue
		}
		events = append(events, ev)
	}
	if len(events) == 0 {
		fmt.Fprintln(g.Err, "No events found.")
		return nil
	}
	sort.SliceStable(events, func(i, j int) bool { return objects.EventTime(events[i]).Before(objects.EventTime(events[j])) })

	t := &table{header: []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}}
	if o.allNamespaces {
		t.header = append([]string{"NAMESPACE"}, t.header...)
	}
	for _, ev := range events {
		row := []string{
			duration.HumanDuration(time.Since(objects.EventTime(ev))),
			ev.Type,
			ev.Reason,
			strings.ToLower(ev.InvolvedObject.Kind) + "/" + ev.InvolvedObject.Name,
			strings.Join(strings.Fields(ev.Message), " "),
		}
		if o.allNamespaces {
			row = append([]string{ev.Namespace}, row...)
		}
		t.rows = append(t.rows, row)
	}
	if isTerminal(g.Out) {
		typeCol := len(t.header) - 4
		t.colour = func(row, col int) string {
			if col == typeCol && t.rows[row][col] == corev1.EventTypeWarning {
				return colourRed
			}
			return ""
		}
	}
	return t.write(g.Out)
}
