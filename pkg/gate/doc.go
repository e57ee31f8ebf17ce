// Package gate holds the logic the approval gate and the sync windows of Kustomizations and
// HelmReleases share: when the windows allow applying and until when they do not, which
// approval a plan has, and how a plan is summarised. It knows nothing of the kinds: it takes
// the spec's meta.Gate and meta.Plan.
package gate
