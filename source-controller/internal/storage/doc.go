// Package storage keeps source-controller's artifacts on local disk and serves them read-only
// over HTTP.
//
// Layout: every artifact lives at `<lowercase kind>/<namespace>/<name>/<file>` under the
// storage root, one directory per object, and is served at `http://<advertised host>/<path>`.
// Artifact paths have exactly those four segments; none may be empty or start with "." (so
// "." and ".." are refused, and the temporary files this package writes, named ".tmp-*",
// are never served nor mistaken for artifacts).
//
// Every file operation goes through an os.Root opened at the storage root: a path that is
// absolute, has ".." or reaches outside the root through a symlink is an error, never a file
// outside the root.
//
// Writes are atomic: an artifact is written to a temporary file in its object's directory,
// synced, and renamed into place, so readers (including the HTTP server) see the old file or
// the new one, never a partial one.
//
// Integrity: a file is trusted only while it hashes to its artifact's digest. Reconcilers
// Verify their artifact before reusing it, and read other objects' artifacts through
// OpenVerified; the server refuses a path whose bytes differ from the digest last written or
// Verified there. Its hash cache keys on modification and change time, size and inode, so a
// rewrite that restores the modification time is hashed again.
//
// Concurrency: one process owns a storage root. Lock serialises the writers of one object
// within that process (the reconciler takes it around write and garbage collection); it is an
// in-process mutex, not a file lock, so two processes must never share a root.
package storage
