package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"weir.dev/cli/internal/local"
	"weir.dev/cli/internal/objects"
)

func init() { register(newLogsCmd) }

type logsOptions struct {
	kind, name  string
	level       string
	follow      bool
	since       time.Duration
	tail        int
	output      string
	localDir    string
	controllers string
}

func newLogsCmd(g *Globals) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Show the logs of Weir's controllers, filtered by object and level",
		Long: "logs prints what Weir's controllers logged: in a cluster, the logs of the controllers' pods\n" +
			"(of the namespace Weir is installed in); with `weir local`, the controllers' log files. Entries\n" +
			"of all controllers are merged by time. --kind, --name and --namespace keep the entries about\n" +
			"one object or kind (from the object the controllers log with each reconcile); --level keeps\n" +
			"entries of that level and above.\n\n" +
			"The default output is one line per entry: time, level, controller, object, message.\n" +
			"-o json prints JSON lines: each entry as the controller logged it (local mode's\n" +
			"console-encoded entries are re-encoded with the same keys).",
		Example: `  # The errors of every controller in the last hour
  weir logs --level error --since 1h

  # What the controllers said about one Kustomization, following new entries
  weir logs --kind ks --name apps -n apps -f

  # The last 20 entries as JSON lines, for jq
  weir logs --tail 20 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := o.filter(cmd, g)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if o.follow {
				var stop context.CancelFunc
				ctx, stop = signal.NotifyContext(ctx, os.Interrupt)
				defer stop()
			}
			sources, err := o.sources(ctx, g)
			if err != nil {
				return err
			}
			return o.run(ctx, g, sources, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.kind, "kind", "", "only entries about objects of this kind (a Weir kind or short name, e.g. ks)")
	fl.StringVar(&o.name, "name", "", "only entries about objects of this name (in --namespace, or the context's namespace)")
	fl.StringVar(&o.level, "level", "", "only entries of this level and above: trace, debug, info, error")
	fl.BoolVarP(&o.follow, "follow", "f", false, "after printing, print new entries as they are logged, until interrupted")
	fl.DurationVar(&o.since, "since", 0, "only entries newer than this, e.g. 10m or 2h")
	fl.IntVar(&o.tail, "tail", -1, "only the last N matching entries (before following); -1 for all")
	fl.StringVarP(&o.output, "output", "o", "", "output format: empty for lines for people, or json")
	fl.StringVar(&o.localDir, "local-dir", "", "read the log files of the weir local in this `dir` (the default when the kubeconfig is a weir local's)")
	fl.StringVar(&o.controllers, "controllers-namespace", "", "the namespace Weir's controllers run in (found from their Deployments when empty)")
	return cmd
}

// filter validates the flags and builds the filter they ask for.
func (o *logsOptions) filter(cmd *cobra.Command, g *Globals) (*logFilter, error) {
	f := &logFilter{}
	switch o.output {
	case "", "json":
	default:
		return nil, fmt.Errorf("unknown output format %q: want json or nothing", o.output)
	}
	if o.level != "" {
		f.Level = strings.ToLower(o.level)
		if _, ok := levels[f.Level]; !ok {
			return nil, fmt.Errorf("--level %q: want trace, debug, info, warn or error", o.level)
		}
	}
	if o.kind != "" {
		k, err := objects.FindKind(o.kind)
		if err != nil {
			return nil, err
		}
		f.Kind = k.Kind
	}
	f.Name = o.name
	// The namespace filters when it is asked for, or when it is needed to name one object.
	if cmd.Flags().Changed("namespace") || o.name != "" {
		f.Namespace = g.Namespace()
	}
	if o.since < 0 {
		return nil, fmt.Errorf("--since %s: want a positive duration", o.since)
	}
	if o.since > 0 {
		f.Since = time.Now().Add(-o.since)
	}
	return f, nil
}

// logSource is the log of one controller process.
type logSource interface {
	controller() string
	// read gives each entry logged so far to emit.
	read(ctx context.Context, emit func(*logEntry)) error
	// follow gives each entry logged after read's last one to emit, until ctx ends.
	follow(ctx context.Context, emit func(*logEntry)) error
}

// sources returns the logs to read: local mode's files, or the controllers' pods.
func (o *logsOptions) sources(ctx context.Context, g *Globals) ([]logSource, error) {
	dir := o.localDir
	if dir == "" {
		dir = localDirOf(g)
	}
	if dir != "" {
		files := local.ControllerLogs(dir)
		if len(files) == 0 {
			return nil, fmt.Errorf("no controller logs in %s: is it a `weir local` directory?", dir)
		}
		var out []logSource
		for _, f := range files {
			out = append(out, &fileLog{name: f.Controller, path: f.Path})
		}
		return out, nil
	}
	return o.podSources(ctx, g)
}

// localDirOf returns the directory of the weir local whose kubeconfig g uses, or "" when
// the kubeconfig is not a weir local's (which writes its kubeconfig beside the logs).
func localDirOf(g *Globals) string {
	path := ""
	if g.Kube.KubeConfig != nil {
		path = *g.Kube.KubeConfig
	}
	if path == "" {
		path = os.Getenv("KUBECONFIG")
		if strings.Contains(path, string(os.PathListSeparator)) {
			return ""
		}
	}
	if path == "" {
		return ""
	}
	dir := filepath.Dir(path)
	if len(local.ControllerLogs(dir)) == 0 {
		return ""
	}
	return dir
}

func (o *logsOptions) run(ctx context.Context, g *Globals, sources []logSource, f *logFilter) error {
	p := &logPrinter{out: g.Out, json: o.output == "json"}
	var mu sync.Mutex
	var backlog []*logEntry
	errs := make([]error, len(sources))
	var wg sync.WaitGroup
	for i, s := range sources {
		wg.Go(func() {
			errs[i] = s.read(ctx, func(e *logEntry) {
				if f.match(e) {
					mu.Lock()
					backlog = append(backlog, e)
					mu.Unlock()
				}
			})
		})
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			fmt.Fprintf(g.Err, "! %s: %v\n", sources[i].controller(), err)
		}
	}
	if failed == len(sources) {
		return fmt.Errorf("could not read the log of any controller")
	}
	sortEntries(backlog)
	if o.tail >= 0 && len(backlog) > o.tail {
		backlog = backlog[len(backlog)-o.tail:]
	}
	for _, e := range backlog {
		if err := p.print(e); err != nil {
			return err
		}
	}
	if !o.follow {
		if len(backlog) == 0 {
			fmt.Fprintln(g.Err, "No log entries match.")
		}
		return nil
	}
	followErrs := make(chan error, len(sources))
	for _, s := range sources {
		wg.Go(func() {
			err := s.follow(ctx, func(e *logEntry) {
				if !f.match(e) {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				_ = p.print(e)
			})
			if err != nil && ctx.Err() == nil {
				followErrs <- fmt.Errorf("following %s: %w", s.controller(), err)
			}
		})
	}
	wg.Wait()
	close(followErrs)
	return <-followErrs
}

// fileLog is the log file of a local controller process.
type fileLog struct {
	name, path string
	// offset is where read stopped: follow goes on from there.
	offset int64
}

func (l *fileLog) controller() string { return l.name }

func (l *fileLog) read(_ context.Context, emit func(*logEntry)) error {
	f, err := os.Open(l.path)
	if err != nil {
		return err
	}
	defer f.Close()
	// Read up to the size seen now, so that follow neither misses nor repeats an entry.
	st, err := f.Stat()
	if err != nil {
		return err
	}
	l.offset = st.Size()
	return readLogEntries(io.LimitReader(f, l.offset), l.name, emit)
}

// followPoll is how often a followed log file is checked for new entries.
const followPoll = 300 * time.Millisecond

func (l *fileLog) follow(ctx context.Context, emit func(*logEntry)) error {
	f, err := os.Open(l.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(l.offset, io.SeekStart); err != nil {
		return err
	}
	return readLogEntries(&tailReader{ctx: ctx, f: f}, l.name, emit)
}

// tailReader reads a file that grows, waiting at its end for more until ctx ends, when it
// reports io.EOF.
type tailReader struct {
	ctx context.Context
	f   *os.File
	// idle, when set, is called each time the reader waits.
	idle func()
}

func (t *tailReader) Read(b []byte) (int, error) {
	for {
		n, err := t.f.Read(b)
		if n > 0 || (err != nil && err != io.EOF) {
			return n, err
		}
		if t.idle != nil {
			t.idle()
		}
		select {
		case <-t.ctx.Done():
			return 0, io.EOF
		case <-time.After(followPoll):
		}
	}
}
