package local

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// LogFile is the log of one controller process of a local Weir.
type LogFile struct {
	// Controller is the process's name: a controller's, or a replica's (name-2, name-3, …).
	Controller string
	// Path is the file its standard output and error are appended to, console-encoded
	// (--log-encoding=console).
	Path string
}

// ControllerLogs returns the logs of the controller processes a local Weir in dir runs or ran,
// replicas included, in start order (controllers first, then their replicas). It returns none
// when dir holds no local Weir.
func ControllerLogs(dir string) []LogFile {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []LogFile
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok || e.IsDir() {
			continue
		}
		if _, replica := controllerOf(name); replica >= 0 {
			out = append(out, LogFile{Controller: name, Path: filepath.Join(dir, e.Name())})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ci, ri := controllerOf(out[i].Controller)
		cj, rj := controllerOf(out[j].Controller)
		if ri != rj {
			return ri < rj
		}
		return ci < cj
	})
	return out
}

// controllerOf returns the index in controllerNames of the controller process name belongs to
// and its replica number (0 for the first process), or -1, -1 for another process's.
func controllerOf(name string) (int, int) {
	for i, c := range controllerNames {
		if name == c {
			return i, 0
		}
		if n, ok := strings.CutPrefix(name, c+"-"); ok {
			if r, err := strconv.Atoi(n); err == nil && r >= 2 {
				return i, r
			}
		}
	}
	return -1, -1
}
