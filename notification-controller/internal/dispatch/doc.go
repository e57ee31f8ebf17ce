// Package dispatch delivers notifications in the background. Each Provider has its own queues,
// so a slow or failing destination delays only its own notifications; a Provider's queue is
// split into lanes by object, so it still delivers in parallel while the notifications about
// one object keep their order (a commit status goes pending, then success). A failed delivery
// is retried with exponential backoff while the error is retryable.
package dispatch
