package main

import (
	"fmt"
	"io"
	"time"
)

// Results is everything one run of the harness measured; it is written as JSON.
type Results struct {
	Machine  Machine   `json:"machine"`
	Args     []string  `json:"args"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// W3Minutes is the length of W3's measuring window.
	W3Minutes float64      `json:"w3Minutes"`
	Envs      []*EnvResult `json:"envs"`
	Failed    bool         `json:"failed"`
}

// Machine describes where the figures were measured.
type Machine struct {
	Nproc       int     `json:"nproc"`
	NumCPU      int     `json:"numCPU"`
	MemTotalGiB float64 `json:"memTotalGiB"`
	Kernel      string  `json:"kernel"`
	OS          string  `json:"os"`
	Hostname    string  `json:"hostname"`
	GoVersion   string  `json:"goVersion"`
	GitCommit   string  `json:"gitCommit"`
	// GitDirty is true when tracked files differ from GitCommit.
	GitDirty bool   `json:"gitDirty"`
	TempDir  string `json:"tempDir"`
}

// EnvResult holds the workloads run in one fresh local environment of size N.
type EnvResult struct {
	N         int      `json:"n"`
	Workloads []string `json:"workloads"`
	// StartupS is how long local.Up took (build, control plane, controllers).
	StartupS float64 `json:"startupSeconds"`
	// HasNode is true when kwok simulated a node (Deployments become Available).
	HasNode bool `json:"hasNode"`
	// Dir is the environment's directory, with -keep.
	Dir string `json:"dir,omitempty"`

	W1  *FanOut          `json:"w1,omitempty"`
	Raw *RawApply        `json:"rawApply,omitempty"`
	W2  *CommitToApplied `json:"w2,omitempty"`
	W3  *Idle            `json:"w3,omitempty"`
	W4  *Prune           `json:"w4,omitempty"`
	W5  *Helm            `json:"w5,omitempty"`
	W6  *Restart         `json:"w6,omitempty"`

	// PeakRSS is each controller's VmHWM at the end of the environment.
	PeakRSS RSS `json:"peakRSSMiB"`
	// Logs summarises the error lines of each controller's log.
	Logs  map[string]LogSummary `json:"logs,omitempty"`
	Error string                `json:"error,omitempty"`
}

// CPU is the CPU seconds (utime+stime) each controller used during a phase, and for context
// those of the API server, etcd and the harness itself (-1: not measured).
type CPU struct {
	Source    float64 `json:"source"`
	Kustomize float64 `json:"kustomize"`
	Helm      float64 `json:"helm"`
	APIServer float64 `json:"kubeAPIServer"`
	Etcd      float64 `json:"etcd"`
	Harness   float64 `json:"harness"`
}

// RSS is each controller's peak resident set size (VmHWM) in MiB at the end of a phase: the
// peak since the process started, so in a fresh environment the peak of the phases so far.
type RSS struct {
	Source    float64 `json:"source"`
	Kustomize float64 `json:"kustomize"`
	Helm      float64 `json:"helm"`
}

// LogSummary counts the error lines of one controller's log and keeps the first few.
type LogSummary struct {
	ErrorLines int      `json:"errorLines"`
	First      []string `json:"first,omitempty"`
}

// FanOut is W1: N Kustomizations created at once until all are Ready at the revision.
type FanOut struct {
	Revision string  `json:"revision"`
	WallS    float64 `json:"wallSeconds"`
	// CreateS is how long creating the N Kustomizations took.
	CreateS float64 `json:"createSeconds"`
	// P50S and P90S are quantiles of the per-object ready time: from the start until the
	// Kustomization was first seen Ready at the revision.
	P50S    float64 `json:"p50Seconds"`
	P90S    float64 `json:"p90Seconds"`
	MaxS    float64 `json:"maxSeconds"`
	CPU     CPU     `json:"cpuSeconds"`
	PeakRSS RSS     `json:"peakRSSMiB"`
	// PerKustomizationCPUms is kustomize-controller's CPU milliseconds per Kustomization.
	PerKustomizationCPUms float64 `json:"perKustomizationCPUms"`
}

// RawApply is the physical-limit baseline: 10·N ConfigMaps server-side applied by one client
// with Weir's shipped client-side rate limits, one request per object.
type RawApply struct {
	Objects     int     `json:"objects"`
	Workers     int     `json:"workers"`
	QPS         float32 `json:"qps"`
	Burst       int     `json:"burst"`
	WallS       float64 `json:"wallSeconds"`
	ObjectsPerS float64 `json:"objectsPerSecond"`
}

// CommitToApplied is W2.
type CommitToApplied struct {
	App string `json:"app"`
	// ValuesS are the repetitions: from just before the commit until the new value was seen.
	ValuesS []float64 `json:"valuesSeconds"`
	MedianS float64   `json:"medianSeconds"`
	// PushS are the times the commit and push took, ArtifactS the times from just before the
	// commit until the GitRepository was seen with an artifact of the new revision (-1: not seen
	// before the ConfigMap changed).
	PushS     []float64 `json:"pushSeconds"`
	ArtifactS []float64 `json:"artifactSeconds"`
	// ConvergedS are the times from just before the commit until every Kustomization was Ready
	// at the new revision.
	ConvergedS []float64 `json:"convergedSeconds"`
	// CPU covers all repetitions, their convergence and the pauses between them.
	CPU     CPU     `json:"cpuSeconds"`
	WallS   float64 `json:"wallSeconds"`
	PeakRSS RSS     `json:"peakRSSMiB"`
}

// Idle is W3.
type Idle struct {
	// SettleS is how long the Kustomizations took to be Ready at their new generation (interval
	// 1m), before the 30 s pause and the window.
	SettleS float64 `json:"settleSeconds"`
	WindowS float64 `json:"windowSeconds"`
	CPU     CPU     `json:"cpuSeconds"`
	// CPUPerMinute is CPU divided by the window in minutes.
	CPUPerMinute CPU `json:"cpuSecondsPerMinute"`
	// DriftObject is the ConfigMap changed at the start of the window, and DriftCorrectedS how
	// long until the controller reverted it (-1: not within the limit).
	DriftObject     string  `json:"driftObject"`
	DriftCorrectedS float64 `json:"driftCorrectedSeconds"`
	PeakRSS         RSS     `json:"peakRSSMiB"`
}

// Prune is W4.
type Prune struct {
	Revision string  `json:"revision"`
	WallS    float64 `json:"wallSeconds"`
	// AllReadyS is when every Kustomization was Ready at the new revision, PrunedS when the last
	// of the 5·N ConfigMaps was gone.
	AllReadyS float64 `json:"allReadySeconds"`
	PrunedS   float64 `json:"prunedSeconds"`
	Deleted   int     `json:"deletedConfigMaps"`
	CPU       CPU     `json:"cpuSeconds"`
	PeakRSS   RSS     `json:"peakRSSMiB"`
}

// Helm is W5.
type Helm struct {
	Releases int `json:"releases"`
	// DisableWait is true when no node was simulated, so the releases do not wait for their
	// Deployment.
	DisableWait bool    `json:"disableWait"`
	InstallS    float64 `json:"installSeconds"`
	// PerReleaseS is InstallS / Releases.
	PerReleaseS float64 `json:"perReleaseSeconds"`
	P50S        float64 `json:"p50Seconds"`
	P90S        float64 `json:"p90Seconds"`
	InstallCPU  CPU     `json:"installCPUSeconds"`
	PeakRSS     RSS     `json:"peakRSSMiB"`
	// ReconcileS and ReconcileCPU are the no-change reconcile request of all releases.
	ReconcileS   float64 `json:"reconcileSeconds"`
	ReconcileCPU CPU     `json:"reconcileCPUSeconds"`
}

// targets are docs/benchmarks.md's targets for Weir and the reference's figures, for the summary.
func target(workload string, n int) string {
	switch workload {
	case "W1":
		switch n {
		case 100:
			return "≤11.5 s (ref 57.4 s, 89.5 CPU s); RSS ≤185 MiB; ≤3× raw"
		case 500:
			return "≤123 s, ≤215 CPU s (ref 20 min 32 s, 2,146 CPU s); RSS ≤205 MiB; ≤3× raw"
		case 1000:
			return "RSS growth sub-linear in N; ≤3× raw"
		}
		return "≤3× raw; cost per Kustomization flat in N"
	case "raw":
		return "ref ~900 objects/s without limits"
	case "W2":
		return "median ≤2 s (ref 62.2 s)"
	case "W3":
		if n == 500 {
			return "≤22.75 CPU s/min (ref 91); drift corrected ≤1 min"
		}
		return "≤0.25× ref CPU/min; drift corrected ≤1 min"
	case "W4":
		switch n {
		case 100:
			return "≤12.6 s (ref 37.7 s)"
		case 500:
			return "≤4 min 21 s (≥3× sooner than tuned ref 13 min 2 s)"
		}
		return "≥3× sooner than the reference"
	case "W5":
		return "≤0.25 s per release; no-change reconcile of all < one install"
	case "W6":
		return "0 writes to managed objects; ≤2 requests per Kustomization; ≤30 s at N=1,000"
	}
	return ""
}

// printTable writes the markdown summary of r.
func printTable(w io.Writer, r *Results) {
	fmt.Fprintf(w, "\n## Weir benchmark (%d CPUs, %s, commit %.12s", r.Machine.Nproc, r.Machine.GoVersion, r.Machine.GitCommit)
	if r.Machine.GitDirty {
		fmt.Fprint(w, " + local changes")
	}
	fmt.Fprintf(w, ")\n\n")
	fmt.Fprintln(w, "| workload | N | wall | kustomize CPU s | source CPU s | helm CPU s | peak RSS MiB (k/s/h) | detail | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	row := func(key, workload string, n int, wall string, cpu *CPU, rss *RSS, detail string) {
		c := [3]string{"", "", ""}
		if cpu != nil {
			c = [3]string{f1(cpu.Kustomize), f1(cpu.Source), f1(cpu.Helm)}
		}
		m := ""
		if rss != nil {
			m = fmt.Sprintf("%.0f / %.0f / %.0f", rss.Kustomize, rss.Source, rss.Helm)
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", workload, n, wall, c[0], c[1], c[2], m, detail, target(key, n))
	}
	for _, e := range r.Envs {
		if x := e.W1; x != nil {
			detail := fmt.Sprintf("p50 %s, p90 %s; %.1f CPU ms/Kustomization", dur(x.P50S), dur(x.P90S), x.PerKustomizationCPUms)
			if e.Raw != nil && e.Raw.WallS > 0 {
				detail += fmt.Sprintf("; %.1f× raw", x.WallS/e.Raw.WallS)
			}
			row("W1", "W1 fan-out", e.N, dur(x.WallS), &x.CPU, &x.PeakRSS, detail)
		}
		if x := e.Raw; x != nil {
			row("raw", "raw apply", e.N, dur(x.WallS), nil, nil, fmt.Sprintf("%d objects, %.0f objects/s (%d workers, QPS %.0f/burst %d)", x.Objects, x.ObjectsPerS, x.Workers, x.QPS, x.Burst))
		}
		if x := e.W2; x != nil {
			row("W2", "W2 commit-to-applied", e.N, "median "+dur(x.MedianS), &x.CPU, &x.PeakRSS, fmt.Sprintf("%s: %s (median push %s, artifact %s)", x.App, durs(x.ValuesS), dur(median(x.PushS)), artifactMedian(x.ArtifactS)))
		}
		if x := e.W3; x != nil {
			drift := "not corrected"
			if x.DriftCorrectedS >= 0 {
				drift = "drift corrected in " + dur(x.DriftCorrectedS)
			}
			row("W3", "W3 idle (per minute)", e.N, dur(x.WindowS)+" window", &x.CPUPerMinute, &x.PeakRSS, drift)
		}
		if x := e.W4; x != nil {
			row("W4", "W4 prune", e.N, dur(x.WallS), &x.CPU, &x.PeakRSS, fmt.Sprintf("%d ConfigMaps deleted; all Ready %s, pruned %s", x.Deleted, dur(x.AllReadyS), dur(x.PrunedS)))
		}
		if x := e.W6; x != nil {
			row("W6", "W6 restart", e.N, dur(x.WallS), &x.CPU, &x.PeakRSS, fmt.Sprintf("%d of %d ConfigMaps written; %.2f requests per Kustomization; ready in %s",
				x.ChangedObjects, x.Objects, x.RequestsPerKustomization, dur(x.StartS)))
		}
		if x := e.W5; x != nil {
			detail := fmt.Sprintf("%.3f s per release; p50 %s, p90 %s", x.PerReleaseS, dur(x.P50S), dur(x.P90S))
			if x.DisableWait {
				detail += "; releases not waiting for their Deployment"
			}
			row("W5", "W5 helm install", e.N, dur(x.InstallS), &x.InstallCPU, &x.PeakRSS, detail)
			if x.ReconcileS > 0 {
				row("", "W5 no-change reconcile", e.N, dur(x.ReconcileS), &x.ReconcileCPU, nil, "")
			}
		}
		if e.Error != "" {
			fmt.Fprintf(w, "| FAILED (%v) | %d | | | | | | %s | |\n", e.Workloads, e.N, oneLine(e.Error))
		}
	}
}

// artifactMedian is the median of the times W2 saw the new artifact, those it saw only.
func artifactMedian(ss []float64) string {
	var seen []float64
	for _, s := range ss {
		if s >= 0 {
			seen = append(seen, s)
		}
	}
	if len(seen) == 0 {
		return "not seen before the value"
	}
	return dur(median(seen))
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// dur formats seconds as a Go duration rounded to 10 ms (to 1 s above 10 minutes).
func dur(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d > 10*time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

func durs(ss []float64) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += dur(s)
	}
	return out
}

func oneLine(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == '\n' || r == '|' {
			r = ' '
		}
		out = append(out, r)
		if len(out) > 200 {
			return string(out) + "…"
		}
	}
	return string(out)
}
