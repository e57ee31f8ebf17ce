package storage

import (
	"io/fs"
	"syscall"
)

// changeTime returns fi's change time (ns) and inode.
func changeTime(fi fs.FileInfo) (int64, uint64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return st.Ctim.Nano(), st.Ino
}
