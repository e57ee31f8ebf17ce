package gate

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"weir.dev/api/meta"
)

// maxWindowSteps bounds the boundaries Evaluate visits looking for the next opening: windows
// that never open (a deny window longer than its period) end the search instead of looping.
const maxWindowSteps = 10000

// window is a parsed meta.SyncWindow.
type window struct {
	allow    bool
	schedule cron.Schedule
	duration time.Duration
	field    string // e.g. spec.syncWindows[1], for messages
}

// Windows are the parsed sync windows of one object.
type Windows struct {
	windows []window
	allows  bool // at least one allow window
}

// ParseWindows parses spec.syncWindows, naming the first window at fault.
func ParseWindows(specs []meta.SyncWindow) (*Windows, error) {
	w := &Windows{}
	for i, s := range specs {
		field := fmt.Sprintf("spec.syncWindows[%d]", i)
		loc := time.UTC
		if s.TimeZone != "" {
			l, err := time.LoadLocation(s.TimeZone)
			if err != nil {
				return nil, fmt.Errorf("%s.timeZone %q: not a known time zone", field, s.TimeZone)
			}
			loc = l
		}
		sched, err := cron.ParseStandard(s.Schedule)
		if err != nil {
			return nil, fmt.Errorf("%s.schedule %q: %w", field, s.Schedule, err)
		}
		if spec, ok := sched.(*cron.SpecSchedule); ok {
			spec.Location = loc
		}
		if s.Duration.Duration <= 0 {
			return nil, fmt.Errorf("%s.duration must be positive", field)
		}
		switch s.Kind {
		case meta.SyncWindowAllow:
			w.allows = true
		case meta.SyncWindowDeny:
		default:
			return nil, fmt.Errorf("%s.kind %q: must be allow or deny", field, s.Kind)
		}
		w.windows = append(w.windows, window{allow: s.Kind == meta.SyncWindowAllow, schedule: sched, duration: s.Duration.Duration, field: field})
	}
	return w, nil
}

// openedAt returns the latest opening of w at or before t that is still open at t.
func (w window) openedAt(t time.Time) (time.Time, bool) {
	// The first opening after t-duration is open at t if it is not after t.
	f := w.schedule.Next(t.Add(-w.duration))
	if f.IsZero() || f.After(t) {
		return time.Time{}, false
	}
	return f, true
}

// Allowed reports whether the windows allow applying at t: no deny window is open, and an
// allow window is open when there are any. No windows allow always.
func (ws *Windows) Allowed(t time.Time) bool {
	if ws == nil {
		return true
	}
	open := !ws.allows
	for _, w := range ws.windows {
		if _, ok := w.openedAt(t); ok {
			if !w.allow {
				return false
			}
			open = true
		}
	}
	return open
}

// Decision is whether the windows allow applying now and, when not, when they next do.
type Decision struct {
	Allowed bool
	// Until is the next time they allow applying; zero when none was found.
	Until time.Time
	// Why names the window that holds, e.g. "inside the deny window spec.syncWindows[0]".
	Why string
}

// Evaluate decides at now: allowed, or held until the next time the windows allow applying.
func (ws *Windows) Evaluate(now time.Time) Decision {
	if ws.Allowed(now) {
		return Decision{Allowed: true}
	}
	d := Decision{Why: ws.why(now)}
	t := now
	for range maxWindowSteps {
		next, ok := ws.nextBoundary(t)
		if !ok {
			break
		}
		if ws.Allowed(next) {
			d.Until = next
			break
		}
		t = next
	}
	return d
}

// why names what holds at t: an open deny window, or no open allow window.
func (ws *Windows) why(t time.Time) string {
	for _, w := range ws.windows {
		if _, ok := w.openedAt(t); ok && !w.allow {
			return "inside the deny window " + w.field
		}
	}
	return "outside every allow window"
}

// nextBoundary returns the first time after t that a window opens or closes.
func (ws *Windows) nextBoundary(t time.Time) (time.Time, bool) {
	var best time.Time
	consider := func(c time.Time) {
		if !c.IsZero() && c.After(t) && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	for _, w := range ws.windows {
		consider(w.schedule.Next(t))
		if f, ok := w.openedAt(t); ok {
			consider(f.Add(w.duration))
		}
	}
	return best, !best.IsZero()
}

// FormatTime writes t as the messages show it: UTC to the minute, e.g. 2026-12-07T02:00Z.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04Z")
}

// WaitMessage is the status message of a revision held by the windows.
func WaitMessage(revision string, d Decision) string {
	if d.Until.IsZero() {
		return fmt.Sprintf("revision %s waits: %s, and no window opens within the schedules", revision, d.Why)
	}
	return fmt.Sprintf("revision %s waits until %s (%s)", revision, FormatTime(d.Until), d.Why)
}
