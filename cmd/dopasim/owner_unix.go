//go:build unix

package main

import (
	"io/fs"
	"os"
	"syscall"
)

// ownedByMe reports whether the file is owned by this process's effective
// user; ok is false where the system does not say.
func ownedByMe(st fs.FileInfo) (mine, ok bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return false, false
	}
	return int(s.Uid) == os.Geteuid(), true
}
