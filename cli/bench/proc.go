package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"weir.dev/cli/internal/local"
)

// clockTicks is USER_HZ, the unit of the times in /proc/<pid>/stat: 100 on every Linux platform
// Go supports (the kernel fixes it for user space whatever CONFIG_HZ is).
const clockTicks = 100

// The controllers the harness measures, by the names local.Up gives them.
const (
	sourceController    = "source-controller"
	kustomizeController = "kustomize-controller"
	helmController      = "helm-controller"
)

// cpuSeconds returns the user plus system CPU time process pid has used so far, from
// /proc/<pid>/stat, or -1 when it cannot be read (the process is gone).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The fields after the command name, which is in parentheses and may hold spaces: state is
	// field 3, utime 14 and stime 15.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return (utime + stime) / clockTicks
}

// peakRSSMiB returns the peak resident set size (VmHWM) of process pid in MiB, or -1.
func peakRSSMiB(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return -1
			}
			return kb / 1024
		}
	}
	return -1
}

// cpuSample is the CPU seconds of each measured controller at one moment.
type cpuSample map[string]float64

// sampleCPU reads the CPU seconds of source-, kustomize- and helm-controller, of the API server
// and etcd, and of the harness itself, which shares the machine with them.
func sampleCPU(env *local.Env) cpuSample {
	s := cpuSample{"harness": cpuSeconds(os.Getpid())}
	for _, c := range env.Controllers {
		switch c.Name {
		case sourceController, kustomizeController, helmController:
			s[c.Name] = cpuSeconds(c.PID())
		}
	}
	for name, pid := range controlPlanePIDs() {
		s[name] = cpuSeconds(pid)
	}
	return s
}

// since returns the CPU seconds each process used between s and now.
func (s cpuSample) since(env *local.Env) CPU {
	now := sampleCPU(env)
	d := func(name string) float64 {
		if now[name] < 0 || s[name] < 0 {
			return -1
		}
		return round2(now[name] - s[name])
	}
	return CPU{Source: d(sourceController), Kustomize: d(kustomizeController), Helm: d(helmController),
		APIServer: d("kube-apiserver"), Etcd: d("etcd"), Harness: d("harness")}
}

// controlPlanePIDs finds the kube-apiserver and etcd processes local.Up started: this process's
// children running those executables (envtest does not expose their process IDs).
func controlPlanePIDs() map[string]int {
	pids := map[string]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return pids
	}
	me := strconv.Itoa(os.Getpid())
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		name := filepath.Base(exe)
		if name != "kube-apiserver" && name != "etcd" {
			continue
		}
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		for _, line := range strings.Split(string(status), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k == "PPid" && strings.TrimSpace(v) == me {
				pids[name] = pid
			}
		}
	}
	return pids
}

// peakRSS reads the peak resident set size of source-, kustomize- and helm-controller.
func peakRSS(env *local.Env) RSS {
	var r RSS
	for _, c := range env.Controllers {
		v := round2(peakRSSMiB(c.PID()))
		switch c.Name {
		case sourceController:
			r.Source = v
		case kustomizeController:
			r.Kustomize = v
		case helmController:
			r.Helm = v
		}
	}
	return r
}

// logErrors counts the lines of each controller's log that report an error, and keeps the first
// few of them, so that the results say when a controller struggled during a run. local.Up
// writes the logs with --log-encoding=console: a level column "ERROR" (or "error").
func logErrors(env *local.Env) map[string]LogSummary {
	out := map[string]LogSummary{}
	for _, c := range env.Controllers {
		f, err := os.Open(c.LogPath)
		if err != nil {
			continue
		}
		var s LogSummary
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			line := sc.Text()
			if !strings.Contains(line, "\tERROR\t") && !strings.Contains(line, "\terror\t") && !strings.Contains(line, "panic") {
				continue
			}
			s.ErrorLines++
			if len(s.First) < 5 {
				if len(line) > 400 {
					line = line[:400] + "…"
				}
				s.First = append(s.First, line)
			}
		}
		f.Close()
		out[c.Name] = s
	}
	return out
}
