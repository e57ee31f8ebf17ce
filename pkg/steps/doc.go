// Package steps is the reconcile skeleton every Weir controller shares: a runner for a kind's
// named steps over a shared scope, the three error kinds every failure is classified into once,
// and the one function that turns an outcome into Ready, Reconciling and Stalled, a requeue
// result and an event.
//
// The error kinds (see docs/architecture.md, "Status contract"):
//   - Stalled: only a change from the user can fix it. Stalled=True, Ready=False, a warning
//     event, no requeue until the object changes.
//   - Waiting: a dependency is not ready yet. Ready=False, Reconciling=True, a fixed requeue,
//     no backoff and no warning event.
//   - anything else is transient: Ready=False, Reconciling=True, a warning event, and the error
//     is returned so controller-runtime retries with exponential backoff. Failed attaches a
//     reason to a transient error. A controller whose rate limiter is a Backoff calls its
//     Retry, which logs the failure with its attempt and caps the delay per object.
package steps
