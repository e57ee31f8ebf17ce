// Package chart loads, completes and packages Helm charts for HelmChart artifacts, within size
// limits and path rules stricter than Helm's own:
//
//   - LoadArchive and LoadDir read a chart (and every subchart archive in it) with a bound on
//     each file and on the total, and reject `..` segments, absolute paths, links and other
//     non-regular entries, naming the entry at fault.
//   - BuildDependencies adds the dependencies Chart.yaml lists but charts/ lacks: local
//     (`file://`) ones from inside the source's root, and remote ones through the caller.
//   - MergeValues merges values files into the chart's default values.
//   - Package writes the chart as a deterministic .tgz: the same chart gives the same bytes.
//
// It knows nothing of Weir's API types.
package chart
