package storage

import (
	"io/fs"
	"time"
)

// fileID is what identifies a file's content without reading it: when any field changes, the
// content may have changed.
type fileID struct {
	mtime time.Time
	size  int64
	ctime int64  // change time in nanoseconds, where the platform has one
	ino   uint64 // where the platform has one
}

func idOf(fi fs.FileInfo) fileID {
	id := fileID{mtime: fi.ModTime(), size: fi.Size()}
	id.ctime, id.ino = changeTime(fi)
	return id
}
