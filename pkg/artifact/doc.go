// Package artifact is the artifact format shared by source-controller, which produces artifacts,
// and every consumer (kustomize-controller, helm-controller, the CLI): a deterministic gzip tar
// of regular files and directories, written by Archive, read back by Extract, and downloaded
// from source-controller's storage by a Fetcher.
//
// The format (docs/architecture.md, "Artifacts"):
//   - A gzip stream without name or mtime in its header, holding a tar archive.
//   - Entries are regular files and directories only, named by slash-separated paths relative
//     to the archived directory, with no leading "/", no "." or ".." segments and no trailing
//     slash on files. Directories are written before their contents; siblings are sorted by
//     name (bytewise), so the whole archive is in path order, component by component.
//   - Every header has mode 0644 (files) or 0755 (directories), mtime 0 (the Unix epoch),
//     uid and gid 0, no user or group names and no access or change times. A name USTAR
//     cannot hold (longer than 256 bytes, or not ASCII) gets a PAX path record; nothing else
//     is ever written in PAX or GNU form.
//
// So the same tree always gives the same bytes, and the same sha256 digest, for a given Go
// version: compress/flate's output is stable within a release but not promised across
// releases, so an upgrade of Go may change an artifact's digest (never its content). Compare
// revisions, not digests, to decide whether the source changed.
//
// Extract accepts only that shape: it rejects absolute names, ".." segments, links, devices,
// fifos and every other entry type, and stops at its Limits without inflating the rest of the
// stream. A Fetcher downloads from one allowed host only, through a size limit, and verifies
// the digest before extracting anything.
package artifact
