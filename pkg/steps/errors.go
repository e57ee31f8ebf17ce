package steps

import (
	"errors"
	"time"
)

// StalledError is a failure only a change from the user can fix.
type StalledError struct {
	Reason string
	Err    error
}

func (e *StalledError) Error() string { return e.Err.Error() }
func (e *StalledError) Unwrap() error { return e.Err }

// Stalled classifies err as needing a user fix, with a condition reason.
func Stalled(reason string, err error) error { return &StalledError{Reason: reason, Err: err} }

// WaitingError says a dependency is not ready; the object is retried after RequeueAfter.
type WaitingError struct {
	Reason       string
	Err          error
	RequeueAfter time.Duration
}

func (e *WaitingError) Error() string { return e.Err.Error() }
func (e *WaitingError) Unwrap() error { return e.Err }

// Waiting classifies err as waiting for a dependency, retried after a fixed interval.
func Waiting(reason string, after time.Duration, err error) error {
	return &WaitingError{Reason: reason, Err: err, RequeueAfter: after}
}

// FailedError is a transient failure with a condition reason.
type FailedError struct {
	Reason string
	Err    error
}

func (e *FailedError) Error() string { return e.Err.Error() }
func (e *FailedError) Unwrap() error { return e.Err }

// Failed gives a transient err a condition reason; it is retried with backoff.
func Failed(reason string, err error) error { return &FailedError{Reason: reason, Err: err} }

// Kind is how an outcome is handled.
type Kind int

const (
	// Succeeded: every step ran.
	Succeeded Kind = iota
	// Stalling: see StalledError.
	Stalling
	// Waits: see WaitingError.
	Waits
	// Transient: any other error.
	Transient
)

// Outcome is a classified result of a run of steps.
type Outcome struct {
	Kind         Kind
	Reason       string
	Message      string
	RequeueAfter time.Duration
	// Err is the error the steps returned, nil on success.
	Err error
}

// Classify classifies the error a run of steps returned. A transient error without a reason
// gets defaultReason.
func Classify(err error, defaultReason string) Outcome {
	if err == nil {
		return Outcome{Kind: Succeeded}
	}
	var (
		stalled *StalledError
		waiting *WaitingError
		failed  *FailedError
	)
	switch {
	case errors.As(err, &stalled):
		return Outcome{Kind: Stalling, Reason: stalled.Reason, Message: err.Error(), Err: err}
	case errors.As(err, &waiting):
		return Outcome{Kind: Waits, Reason: waiting.Reason, Message: err.Error(), RequeueAfter: waiting.RequeueAfter, Err: err}
	case errors.As(err, &failed):
		return Outcome{Kind: Transient, Reason: failed.Reason, Message: err.Error(), Err: err}
	default:
		return Outcome{Kind: Transient, Reason: defaultReason, Message: err.Error(), Err: err}
	}
}
