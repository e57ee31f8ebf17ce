package steps

import (
	"context"
	"errors"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/log"
)

// ErrStop, returned by a step, ends the run early as a success: the rest has nothing to do.
var ErrStop = errors.New("nothing more to do")

// Step is one named stage of a reconcile. It reads and fills its part of the scope S, sets
// only its own abnormal-true conditions, and returns a classified error.
type Step[S any] struct {
	Name string
	Run  func(ctx context.Context, scope S) error
}

// Run runs steps in order over scope and stops at the first error. It returns nil when every
// step ran or one returned ErrStop. Each step's duration is logged at debug level.
func Run[S any](ctx context.Context, scope S, steps ...Step[S]) error {
	logger := log.FromContext(ctx)
	for _, s := range steps {
		start := time.Now()
		err := s.Run(ctx, scope)
		logger.V(1).Info("step", "step", s.Name, "duration", time.Since(start).String(), "error", err)
		if errors.Is(err, ErrStop) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}
