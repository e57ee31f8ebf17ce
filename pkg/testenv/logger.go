package testenv

import (
	"sync"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// SetLogger makes l controller-runtime's logger for the rest of the test process. Use it
// instead of ctrl.SetLogger in a Setup: Main installs a forwarding logger before the control
// plane starts, because controller-runtime settles for a logger that drops everything when
// none is set 30 seconds into the process, which a slow control-plane start on a loaded
// machine exceeds, and it ignores every later SetLogger.
func SetLogger(l logr.Logger) {
	forward.mu.Lock()
	defer forward.mu.Unlock()
	forward.sink = l.GetSink()
}

// forward is the sink Main hands controller-runtime; SetLogger chooses where it writes.
var forward = &forwardRoot{sink: logr.Discard().GetSink()}

func init() { ctrllog.SetLogger(logr.New(forwardSink{root: forward})) }

type forwardRoot struct {
	mu   sync.RWMutex
	sink logr.LogSink
	info logr.RuntimeInfo
}

// forwardSink remembers the names and values it was derived with and applies them to the
// current sink at each call, so loggers derived before SetLogger write where it points.
type forwardSink struct {
	root   *forwardRoot
	names  []string
	values []any
}

func (f forwardSink) target() logr.LogSink {
	f.root.mu.RLock()
	s := f.root.sink
	f.root.mu.RUnlock()
	if s == nil {
		return nil
	}
	if cd, ok := s.(logr.CallDepthLogSink); ok {
		s = cd.WithCallDepth(1)
	}
	for _, n := range f.names {
		s = s.WithName(n)
	}
	if len(f.values) > 0 {
		s = s.WithValues(f.values...)
	}
	return s
}

func (f forwardSink) Init(info logr.RuntimeInfo) {
	f.root.mu.Lock()
	f.root.info = info
	f.root.mu.Unlock()
}

func (f forwardSink) Enabled(level int) bool {
	if s := f.target(); s != nil {
		return s.Enabled(level)
	}
	return false
}

func (f forwardSink) Info(level int, msg string, kv ...any) {
	if s := f.target(); s != nil {
		s.Info(level, msg, kv...)
	}
}

func (f forwardSink) Error(err error, msg string, kv ...any) {
	if s := f.target(); s != nil {
		s.Error(err, msg, kv...)
	}
}

func (f forwardSink) WithValues(kv ...any) logr.LogSink {
	f.values = append(append([]any(nil), f.values...), kv...)
	return f
}

func (f forwardSink) WithName(name string) logr.LogSink {
	f.names = append(append([]string(nil), f.names...), name)
	return f
}
