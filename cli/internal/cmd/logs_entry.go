package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// maxLogLine bounds one log line; a longer one is cut there.
const maxLogLine = 1 << 20

// logEntry is one line a controller logged, JSON-encoded (a Deployment's default,
// --log-encoding=json) or console-encoded (local mode's, --log-encoding=console), with the
// stack-trace lines that follow an error in console encoding.
type logEntry struct {
	Time       time.Time
	Level      string // lower-case: trace, debug, info, warn, error, dpanic, panic, fatal
	Controller string // the process: its pod's controller, or local mode's file name
	Logger     string
	Message    string
	// Fields are the entry's other keys: controller-runtime's controllerKind, namespace and
	// name, the error, …
	Fields map[string]any
	// Kind, Namespace and Name are the object the entry is about, "" when it names none.
	Kind, Namespace, Name string
	// raw is the line as read when it is JSON, passed through by -o json.
	raw string
	// more are console encoding's continuation lines (a stack trace).
	more []string
}

// levels orders zap's levels.
var levels = map[string]int{"trace": -2, "debug": -1, "info": 0, "warn": 1, "error": 2, "dpanic": 3, "panic": 4, "fatal": 5}

// consoleTime is zap's ISO 8601 time encoder's layout, which the controllers use.
const consoleTime = "2006-01-02T15:04:05.000Z0700"

// parseLogLine reads one line; ok is false for a line that does not start an entry (a
// console stack trace's, or anything not a log entry).
func parseLogLine(line string) (e *logEntry, ok bool) {
	if strings.HasPrefix(line, "{") {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			return nil, false
		}
		e = &logEntry{raw: line, Fields: m}
		e.Message, _ = m["msg"].(string)
		e.Logger, _ = m["logger"].(string)
		level, _ := m["level"].(string)
		e.Level = strings.ToLower(level)
		switch ts := m["ts"].(type) {
		case string:
			e.Time, _ = time.Parse(consoleTime, ts)
			if e.Time.IsZero() {
				e.Time, _ = time.Parse(time.RFC3339Nano, ts)
			}
		case json.Number: // zap's default epoch seconds
			if f, err := ts.Float64(); err == nil {
				e.Time = time.Unix(0, int64(f*1e9))
			}
		}
		for _, k := range []string{"msg", "logger", "level", "ts"} {
			delete(m, k)
		}
		e.findObject()
		return e, true
	}
	// Console: time, LEVEL, [logger,] message and, when there are any, the fields as JSON,
	// separated by tabs.
	parts := strings.Split(line, "\t")
	if len(parts) < 3 {
		return nil, false
	}
	t, err := time.Parse(consoleTime, parts[0])
	if err != nil {
		return nil, false
	}
	e = &logEntry{Time: t, Level: strings.ToLower(parts[1]), Fields: map[string]any{}}
	if _, known := levels[e.Level]; !known {
		return nil, false
	}
	rest := parts[2:]
	if last := rest[len(rest)-1]; len(rest) > 1 && strings.HasPrefix(last, "{") {
		d := json.NewDecoder(strings.NewReader(last))
		d.UseNumber()
		if d.Decode(&e.Fields) == nil {
			rest = rest[:len(rest)-1]
		}
	}
	if len(rest) > 1 {
		e.Logger, rest = rest[0], rest[1:]
	}
	e.Message = strings.Join(rest, "\t")
	e.findObject()
	return e, true
}

// findObject sets the object the entry is about from the keys the controllers log it with:
// controller-runtime's reconciler logger ("controllerKind", "namespace", "name" and a key named
// after the kind), fluxcd's event recorder ("reconciler kind"), and notification-controller's
// "object" (Kind/namespace/name).
func (e *logEntry) findObject() {
	str := func(k string) string { s, _ := e.Fields[k].(string); return s }
	if obj := str("object"); obj != "" {
		if parts := strings.SplitN(obj, "/", 3); len(parts) == 3 {
			e.Kind, e.Namespace, e.Name = parts[0], parts[1], parts[2]
			return
		}
	}
	kind := str("controllerKind")
	if kind == "" {
		kind = str("reconciler kind")
	}
	name := str("name")
	if kind == "" || name == "" {
		return
	}
	e.Kind, e.Namespace, e.Name = kind, str("namespace"), name
	if ref, ok := e.Fields[kind].(map[string]any); ok {
		if n, _ := ref["name"].(string); n != "" {
			e.Name = n
			e.Namespace, _ = ref["namespace"].(string)
		}
	}
}

// Object is Kind/namespace/name, or "" for an entry about no object.
func (e *logEntry) Object() string {
	if e.Kind == "" {
		return ""
	}
	return e.Kind + "/" + e.Namespace + "/" + e.Name
}

// logFilter selects entries.
type logFilter struct {
	// Kind is a Weir kind's name ("Kustomization"); Namespace and Name, when set, must match too.
	Kind, Namespace, Name string
	// Level is the lowest level shown, "" for every level.
	Level string
	// Since drops entries older than it, when set.
	Since time.Time
}

func (f *logFilter) match(e *logEntry) bool {
	if f.Level != "" && levels[e.Level] < levels[f.Level] {
		return false
	}
	if !f.Since.IsZero() && !e.Time.IsZero() && e.Time.Before(f.Since) {
		return false
	}
	if f.Kind != "" && !strings.EqualFold(e.Kind, f.Kind) {
		return false
	}
	if f.Namespace != "" && e.Namespace != f.Namespace {
		return false
	}
	return f.Name == "" || e.Name == f.Name
}

// readLogEntries reads the entries of r, logged by controller, and gives each to emit,
// continuation lines attached to the entry they follow. Lines that are not log entries and
// follow none are dropped. Reading a *tailReader, an entry is given as soon as the reader waits
// for more, not only once the next one starts.
func readLogEntries(r io.Reader, controller string, emit func(*logEntry)) error {
	var cur *logEntry
	flush := func() {
		if cur != nil {
			emit(cur)
			cur = nil
		}
	}
	if t, ok := r.(*tailReader); ok {
		t.idle = flush
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLogLine)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if e, ok := parseLogLine(line); ok {
			flush()
			e.Controller, cur = controller, e
			continue
		}
		if cur != nil && cur.raw == "" && line != "" {
			cur.more = append(cur.more, line)
		}
	}
	flush()
	return sc.Err()
}

// logPrinter writes entries for people (time, level, controller, object, message) or as JSON
// lines: a JSON-encoded entry as it was logged, a console-encoded one re-encoded with the keys
// the JSON encoder uses.
type logPrinter struct {
	out  io.Writer
	json bool
}

func (p *logPrinter) print(e *logEntry) error {
	if p.json {
		if e.raw != "" {
			_, err := fmt.Fprintln(p.out, e.raw)
			return err
		}
		m := map[string]any{"ts": e.Time.UTC().Format(consoleTime), "level": e.Level, "msg": e.Message, "process": e.Controller}
		if e.Logger != "" {
			m["logger"] = e.Logger
		}
		for k, v := range e.Fields {
			if _, taken := m[k]; !taken {
				m[k] = v
			}
		}
		if len(e.more) > 0 {
			m["stacktrace"] = strings.Join(e.more, "\n")
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			return err
		}
		_, err := p.out.Write(b.Bytes())
		return err
	}
	obj := e.Object()
	if obj == "" {
		obj = "-"
	}
	msg := e.Message
	if s, ok := e.Fields["error"].(string); ok && s != "" {
		msg += ": " + s
	}
	stamp := "-"
	if !e.Time.IsZero() {
		stamp = e.Time.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	_, err := fmt.Fprintf(p.out, "%s %-5s %s %s %s\n", stamp, strings.ToUpper(e.Level), e.Controller, obj, strings.Join(strings.Fields(msg), " "))
	return err
}

// sortEntries orders entries of several processes by time, keeping each one's order.
func sortEntries(entries []*logEntry) {
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Time.Before(entries[j].Time) })
}
