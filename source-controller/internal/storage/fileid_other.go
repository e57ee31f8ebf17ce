//go:build !linux

package storage

import "io/fs"

// changeTime is not read on this platform: the cache relies on mtime and size alone.
func changeTime(fs.FileInfo) (int64, uint64) { return 0, 0 }
