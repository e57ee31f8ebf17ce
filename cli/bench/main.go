// Command bench runs the benchmark workloads of docs/benchmarks.md (W1 fan-out, W2 commit-to-applied,
// W3 idle, W4 prune, W5 Helm, W6 restart and the raw server-side apply baseline) against Weir's controllers on
// a local control plane (weir.dev/cli/internal/local), and writes every figure to a JSON file and
// a markdown summary to standard output.
//
// Each size N gets a fresh local environment, so that each controller's peak resident memory
// (VmHWM) belongs to that size: one per size for W1–W4, which share the applied fleet, and one
// for W5. It is a module of its own (cli/bench/go.mod), outside the weir command's. Run it from
// the repository with `make bench`, or:
//
//	cd cli/bench && go run .                            # docs/benchmarks.md's sizes (a long run)
//	cd cli/bench && BENCH_N=5 go run . -workloads W1,W2 # every selected workload at N=5
//	cd cli/bench && BENCH_N=5 BENCH_W3_MINUTES=1 go run . -workloads W3
//
// Every wait is bounded by -timeout; a workload that times out is reported with the first
// objects that were not ready, the next environment runs, and the harness exits 1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"weir.dev/cli/internal/local"
)

// defaultSizes are the sizes docs/benchmarks.md asks for, by workload. W5 counts HelmReleases.
var defaultSizes = map[string][]int{
	"W1": {100, 500, 1000},
	"W2": {100, 500},
	"W3": {500},
	"W4": {100, 500},
	"W5": {100},
	"W6": {1000},
}

var allWorkloads = []string{"W1", "W2", "W3", "W4", "W5", "W6"}

// config is the harness's command line.
type config struct {
	workloads []string
	// n replaces every size when positive (-n or BENCH_N).
	n        int
	out      string
	timeout  time.Duration
	poll     time.Duration
	w3Window time.Duration
	keep     bool
	// helmNoWait makes W5's releases not wait for their objects to be ready, to tell the
	// controller's own time from the wait for the Deployment.
	helmNoWait bool
	repoRoot   string
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	// The harness's clients log nothing worth showing among its progress lines.
	ctrllog.SetLogger(ctrllog.Log.WithSink(ctrllog.NullLogSink{}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	results := run(ctx, cfg)
	if err := writeResults(cfg.out, results); err != nil {
		fmt.Fprintln(os.Stderr, "bench: writing results:", err)
		results.Failed = true
	}
	printTable(os.Stdout, results)
	fmt.Fprintf(os.Stdout, "\nAll figures: %s\n", cfg.out)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "bench: interrupted")
		os.Exit(130)
	}
	if results.Failed {
		fmt.Fprintln(os.Stderr, "bench: some workloads failed; see the errors above and in the results")
		os.Exit(1)
	}
}

func parseFlags() (*config, error) {
	cfg := &config{}
	workloads := flag.String("workloads", strings.Join(allWorkloads, ","), "comma-separated workloads to run: W1,W2,W3,W4,W5,W6")
	flag.IntVar(&cfg.n, "n", 0, "run every workload at this one size instead of docs/benchmarks.md's (default $BENCH_N)")
	flag.StringVar(&cfg.out, "out", "", "JSON results file (default bench-results.json in the repository root)")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Minute, "limit of each wait (a fleet becoming Ready, ConfigMaps pruned, …)")
	flag.DurationVar(&cfg.poll, "poll", 0, "interval of the Lists that watch a fleet become Ready (default 200ms; N ms, at most 1s, above N=200)")
	flag.BoolVar(&cfg.helmNoWait, "w5-disable-wait", false, "W5's releases do not wait for their Deployment to be Available (always so without a simulated node)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep each environment's directory (logs, kubeconfig, Git repository) after the run")
	flag.Parse()
	if flag.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	for _, w := range strings.Split(*workloads, ",") {
		w = strings.ToUpper(strings.TrimSpace(w))
		if w == "" {
			continue
		}
		if !slices.Contains(allWorkloads, w) {
			return nil, fmt.Errorf("-workloads: unknown workload %q (want some of %s)", w, strings.Join(allWorkloads, ","))
		}
		if !slices.Contains(cfg.workloads, w) {
			cfg.workloads = append(cfg.workloads, w)
		}
	}
	if len(cfg.workloads) == 0 {
		return nil, errors.New("-workloads: no workload selected")
	}
	if cfg.n == 0 {
		if s := os.Getenv("BENCH_N"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("BENCH_N=%q: want a positive number", s)
			}
			cfg.n = n
		}
	}
	if cfg.n < 0 {
		return nil, fmt.Errorf("-n %d: want a positive number", cfg.n)
	}
	cfg.w3Window = 3 * time.Minute
	if s := os.Getenv("BENCH_W3_MINUTES"); s != "" {
		m, err := strconv.ParseFloat(s, 64)
		if err != nil || m <= 0 {
			return nil, fmt.Errorf("BENCH_W3_MINUTES=%q: want a positive number of minutes", s)
		}
		cfg.w3Window = time.Duration(m * float64(time.Minute))
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if cfg.repoRoot = local.FindRepoRoot(wd); cfg.repoRoot == "" {
		return nil, errors.New("run from a Weir checkout: no go.work at or above the working directory")
	}
	if cfg.out == "" {
		cfg.out = filepath.Join(cfg.repoRoot, "bench-results.json")
	}
	return cfg, nil
}

// envPlan is one fresh environment: a size and the workloads run in it, in order.
type envPlan struct {
	n         int
	helm      bool
	workloads []string
}

// plan groups the selected workloads by size: one environment per size for W1–W4, which share
// the applied fleet (W2–W4 need it, and W4, which prunes, comes last), and one for W5.
func plan(cfg *config) []envPlan {
	sizes := map[int][]string{}
	for _, w := range cfg.workloads {
		if w == "W5" {
			continue
		}
		ns := defaultSizes[w]
		if cfg.n > 0 {
			ns = []int{cfg.n}
		}
		for _, n := range ns {
			sizes[n] = append(sizes[n], w)
		}
	}
	var plans []envPlan
	for _, n := range slices.Sorted(maps.Keys(sizes)) {
		ws := sizes[n]
		slices.Sort(ws)
		plans = append(plans, envPlan{n: n, workloads: ws})
	}
	if slices.Contains(cfg.workloads, "W5") {
		ns := defaultSizes["W5"]
		if cfg.n > 0 {
			ns = []int{cfg.n}
		}
		for _, n := range ns {
			plans = append(plans, envPlan{n: n, helm: true, workloads: []string{"W5"}})
		}
	}
	return plans
}

// run runs every planned environment in turn and collects the results; a failed environment
// is recorded and the next one runs.
func run(ctx context.Context, cfg *config) *Results {
	r := &Results{Started: time.Now().UTC(), Machine: machineInfo(cfg.repoRoot), Args: os.Args[1:], W3Minutes: cfg.w3Window.Minutes()}
	for _, p := range plan(cfg) {
		if ctx.Err() != nil {
			break
		}
		er := runEnv(ctx, cfg, p)
		if er.Error != "" {
			r.Failed = true
		}
		r.Envs = append(r.Envs, er)
	}
	r.Finished = time.Now().UTC()
	return r
}

// runEnv starts a fresh local environment for p, runs p's workloads in it and stops it.
func runEnv(ctx context.Context, cfg *config, p envPlan) (er *EnvResult) {
	er = &EnvResult{N: p.n, Workloads: p.workloads}
	logf("=== N=%d: %s ===", p.n, strings.Join(p.workloads, ", "))
	dir, err := os.MkdirTemp("", "weir-bench-")
	if err != nil {
		er.Error = err.Error()
		return er
	}
	if cfg.keep {
		er.Dir = dir
		defer logf("kept %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	start := time.Now()
	env, err := local.Up(ctx, local.Options{Dir: filepath.Join(dir, "weir"), Keep: cfg.keep, RepoRoot: cfg.repoRoot, Out: os.Stderr})
	if err != nil {
		er.Error = "starting the local environment: " + err.Error()
		logf("FAILED: %s", er.Error)
		return er
	}
	// Stop even when a workload panics; the controllers' logs are read first, as Stop removes them.
	defer func() {
		er.Logs = logErrors(env)
		for name, s := range er.Logs {
			if s.ErrorLines > 0 {
				logf("%s logged %d error lines; first: %s", name, s.ErrorLines, s.First[0])
			}
		}
		if err := env.Stop(); err != nil {
			logf("stopping the local environment: %v", err)
		}
	}()
	er.StartupS = seconds(time.Since(start))
	er.HasNode = env.HasNode

	b, err := newBench(ctx, cfg, env, dir, p.n)
	if err != nil {
		er.Error = err.Error()
		logf("FAILED: %s", er.Error)
		return er
	}
	defer b.close()
	if p.helm {
		err = b.runHelm(er)
	} else {
		err = b.runFleet(er, p.workloads)
	}
	er.PeakRSS = peakRSS(env)
	if err != nil {
		er.Error = err.Error()
		logf("FAILED (N=%d): %s", p.n, er.Error)
	}
	return er
}

// logf prints a progress line to standard error.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func seconds(d time.Duration) float64 { return round2(d.Seconds()) }

func round2(f float64) float64 {
	if f < 0 {
		return f
	}
	return float64(int64(f*100+0.5)) / 100
}

// machineInfo describes where the figures were measured.
func machineInfo(root string) Machine {
	m := Machine{NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if out, err := exec.Command("nproc").Output(); err == nil {
		m.Nproc, _ = strconv.Atoi(strings.TrimSpace(string(out)))
	}
	if out, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output(); err == nil {
		m.GitCommit = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil {
		m.GitDirty = len(strings.TrimSpace(string(out))) > 0
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				m.MemTotalGiB = round2(kb / 1024 / 1024)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.Hostname, _ = os.Hostname()
	m.TempDir = os.TempDir()
	return m
}

func writeResults(path string, r *Results) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
