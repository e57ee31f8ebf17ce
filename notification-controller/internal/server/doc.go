// Package server holds notification-controller's two HTTP listeners, each a manager Runnable
// that every replica runs (no leader election):
//
//   - the event server (EventServer, :9090) takes the events the other controllers POST, drops
//     malformed and duplicate ones, and routes the rest through the matching Alerts to their
//     Providers' notifiers, delivered in the background;
//   - the receiver server (ReceiverServer, :9292) takes webhooks at a Receiver's
//     status.webhookPath, authenticates them as the Receiver's type requires, and asks the
//     Receiver's resources to reconcile now.
//
// Both bound what a caller can make them hold: request bodies have a size limit, reads and
// writes a timeout, and requests a rate limit.
package server
