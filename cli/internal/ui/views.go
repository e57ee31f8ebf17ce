package ui

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
)

const (
	// defaultPerPage and maxPerPage bound the rows of one list page.
	defaultPerPage = 100
	maxPerPage     = 500
	// overviewFailing and overviewEvents bound the overview's lists.
	overviewFailing = 50
	overviewEvents  = 20
)

// pages holds one template set per page; each defines "controls" (kept across live updates)
// and "live" (replaced by live updates).
type pages struct{ sets map[string]*template.Template }

var funcs = template.FuncMap{
	"ago":    ago,
	"stamp":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"lower":  strings.ToLower,
	"short":  func(n int, s string) string { return objects.Shorten(s, n) },
	"commas": commas,
	// revIndex is n-1 … 0, to range over a slice backwards.
	"revIndex": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = n - 1 - i
		}
		return out
	},
	// count is "1 object", "2,000 objects".
	"count": func(n int, noun string) string {
		if n == 1 {
			return "1 " + noun
		}
		return commas(n) + " " + noun + "s"
	},
	// condClass is good or bad for the conditions whose meaning is known, "" for the others.
	"condClass": func(c metav1.Condition) string {
		switch {
		case c.Type == meta.ReadyCondition && c.Status == metav1.ConditionTrue:
			return "good"
		case c.Type == meta.ReadyCondition && c.Status == metav1.ConditionFalse, c.Type == meta.StalledCondition && c.Status == metav1.ConditionTrue:
			return "bad"
		}
		return ""
	},
}

func loadPages() (*pages, error) {
	p := &pages{sets: map[string]*template.Template{}}
	for _, name := range []string{"overview", "list", "detail", "trace", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/"+name+".html")
		if err != nil {
			return nil, err
		}
		p.sets[name] = t
	}
	return p, nil
}

// view is what every page template gets.
type view struct {
	Title   string
	Token   string
	User    string
	Context string
	// Object is the key of the object a detail page shows; live updates of it refresh the page.
	Object string
	Denied []deniedGroup
	// Missing are kinds whose CRDs are not installed.
	Missing []string
	// WatchErrors are watches failing now, e.g. when RBAC changed after the start.
	WatchErrors []string
	Data        any
}

// deniedGroup is the kinds the user may not list in one namespace.
type deniedGroup struct {
	Namespace string
	Kinds     []string
}

func (s *Server) newView(title string, data any) *view {
	v := &view{Title: title, Token: s.token, User: s.user, Context: s.opts.Context, Data: data}
	denied, missing, failing := s.store.access()
	byNS := map[string][]string{}
	var order []string
	for _, d := range denied {
		if _, ok := byNS[d.Namespace]; !ok {
			order = append(order, d.Namespace)
		}
		byNS[d.Namespace] = append(byNS[d.Namespace], d.Kind)
	}
	for _, ns := range order {
		v.Denied = append(v.Denied, deniedGroup{Namespace: ns, Kinds: byNS[ns]})
	}
	v.Missing, v.WatchErrors = missing, failing
	return v
}

// render writes the page, or only its live part when the page's script asks for it.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t := s.pages.sets[name]
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	var err error
	if r.Header.Get("X-Weir-Partial") != "" {
		err = t.ExecuteTemplate(w, "live", v)
	} else {
		err = t.ExecuteTemplate(w, "layout.html", v)
	}
	if err != nil {
		fmt.Fprintf(w, "<p class=error>rendering the page: %s</p>", template.HTMLEscapeString(err.Error()))
	}
}

// fail renders an error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	s.render(w, r, status, "error", s.newView(title, message))
}

// kindCount is one line of the overview's table.
type kindCount struct {
	Kind   string
	Counts map[State]int
	Total  int
}

type overviewData struct {
	Total       int
	States      []State
	StateTotals map[State]int
	Kinds       []kindCount
	Failing     []*Row
	FailingMore int
	Events      []eventRow
	// EventsDenied are namespaces whose events the user may not list.
	EventsDenied []string
	EventsErr    string
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	rows := s.store.snapshot()
	d := &overviewData{Total: len(rows), States: States, StateTotals: map[State]int{}}
	perKind := map[*objects.Kind]*kindCount{}
	for _, row := range rows {
		kc := perKind[row.Kind]
		if kc == nil {
			kc = &kindCount{Kind: row.Kind.Kind, Counts: map[State]int{}}
			perKind[row.Kind] = kc
		}
		kc.Counts[row.State]++
		kc.Total++
		d.StateTotals[row.State]++
		if row.State == Failing {
			if len(d.Failing) < overviewFailing {
				d.Failing = append(d.Failing, row)
			} else {
				d.FailingMore++
			}
		}
	}
	for _, k := range objects.Kinds {
		if kc := perKind[k]; kc != nil {
			d.Kinds = append(d.Kinds, *kc)
		}
	}
	d.Events, d.EventsDenied, d.EventsErr = s.warningEvents(r.Context())
	s.render(w, r, http.StatusOK, "overview", s.newView("Overview", d))
}

// eventRow is one Event as pages show it.
type eventRow struct {
	Time    time.Time
	Type    string
	Reason  string
	Object  string
	Path    string
	Message string
	Count   int32
}

func eventRowOf(ev corev1.Event) eventRow {
	e := eventRow{Time: objects.EventTime(ev), Type: ev.Type, Reason: ev.Reason, Message: ev.Message, Count: ev.Count}
	io := ev.InvolvedObject
	e.Object = io.Kind + "/" + io.Namespace + "/" + io.Name
	gv, _ := schema.ParseGroupVersion(io.APIVersion)
	if k := objects.KindByGVK(gv.WithKind(io.Kind)); k != nil {
		e.Path = "/objects/" + rowKey(k, io.Namespace, io.Name)
	}
	return e
}

// warningEvents returns the newest Warning events about Weir objects, in every namespace the
// user may list events in, and the namespaces where they may not.
func (s *Server) warningEvents(ctx context.Context) ([]eventRow, []string, string) {
	sel := client.MatchingFields{"type": corev1.EventTypeWarning}
	var items []corev1.Event
	var denied []string
	var list corev1.EventList
	err := s.client.List(ctx, &list, sel)
	switch {
	case err == nil:
		items = list.Items
	case apierrors.IsForbidden(err):
		for _, ns := range s.store.namespacesSeen() {
			var nl corev1.EventList
			if err := s.client.List(ctx, &nl, sel, client.InNamespace(ns)); err != nil {
				denied = append(denied, ns)
				continue
			}
			items = append(items, nl.Items...)
		}
	default:
		return nil, nil, apiMessage("listing events", err)
	}
	var rows []eventRow
	for _, ev := range items {
		gv, _ := schema.ParseGroupVersion(ev.InvolvedObject.APIVersion)
		if objects.IsWeirGroup(gv.Group) {
			rows = append(rows, eventRowOf(ev))
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Time.After(rows[j].Time) })
	if len(rows) > overviewEvents {
		rows = rows[:overviewEvents]
	}
	return rows, denied, ""
}

type listData struct {
	Filter     Filter
	Namespaces []string
	Kinds      []string
	States     []State
	Rows       []*Row
	Total      int
	Matched    int
	From, To   int
	Prev, Next string
	Per        int
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := Filter{Namespace: q.Get("namespace"), Kind: strings.ToLower(q.Get("kind")), State: State(q.Get("state")), Text: strings.TrimSpace(q.Get("q"))}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	per, _ := strconv.Atoi(q.Get("per"))
	if per <= 0 {
		per = defaultPerPage
	}
	per = min(per, maxPerPage)

	rows := s.store.snapshot()
	d := &listData{Filter: f, States: States, Total: len(rows), Per: per, Namespaces: s.store.namespacesSeen()}
	for _, k := range objects.Kinds {
		d.Kinds = append(d.Kinds, strings.ToLower(k.Kind))
	}
	matched := rows[:0:0]
	for _, row := range rows {
		if f.Match(row) {
			matched = append(matched, row)
		}
	}
	d.Matched = len(matched)
	from := min((page-1)*per, len(matched))
	to := min(from+per, len(matched))
	d.Rows = matched[from:to]
	d.From, d.To = from+1, to
	if page > 1 {
		d.Prev = pageURL(q, page-1)
	}
	if to < len(matched) {
		d.Next = pageURL(q, page+1)
	}
	s.render(w, r, http.StatusOK, "list", s.newView("Objects", d))
}

// pageURL is the list URL of q on another page.
func pageURL(q url.Values, page int) string {
	c := url.Values{}
	for k, v := range q {
		if len(v) > 0 && v[0] != "" {
			c.Set(k, v[0])
		}
	}
	c.Set("page", strconv.Itoa(page))
	return "/objects?" + c.Encode()
}

// ago is how long ago t was, e.g. "5m"; "–" for no time.
func ago(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return duration.HumanDuration(time.Since(t))
}

// commas writes n with thousands separators.
func commas(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
