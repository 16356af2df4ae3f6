package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// atomicFile is an output file written under a temporary name beside its
// path and renamed onto the path only once complete, so that nobody ever
// sees half a file. The temporary file is created (and so the path checked)
// before any run starts. The path is taken as given: the temporary file is
// created exclusively in the path's own directory and renamed onto the path
// itself, so a symbolic link there is replaced by the file, never written
// through (a link planted by someone else cannot aim the write at a file of
// theirs choosing). An existing regular file keeps its permissions; a new
// one, or one that replaces a link, gets 0666 less the umask.
type atomicFile struct {
	flag, path string
	tmp        *os.File
	mode       os.FileMode // of the existing file, or 0 to keep the temporary file's
	done       bool        // committed or discarded
}

// createAtomic checks the path given to flag (for error messages, e.g.
// "--plot") and creates its temporary file. A directory or another file
// that is not a regular file or a link, a file that cannot be written or an
// unwritable directory is a usage error.
func createAtomic(flag, path string) (*atomicFile, error) {
	f := &atomicFile{flag: flag, path: path}
	if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSymlink == 0 {
		if !st.Mode().IsRegular() {
			return nil, usagef("%s %q: not a regular file", flag, path)
		}
		w, err := os.OpenFile(path, os.O_WRONLY, 0) // opened, never written: a check
		if err != nil {
			return nil, usagef("%s %q: cannot write it: %v", flag, path, err)
		}
		w.Close()
		f.mode = st.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	removeStale(dir, base)
	for i := 0; ; i++ {
		name := filepath.Join(dir, tempName(base, os.Getpid(), i))
		tmp, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			f.tmp = tmp
			return f, nil
		}
		if !os.IsExist(err) || i > 100 {
			return nil, usagef("%s %q: cannot write there: %v", flag, path, err)
		}
	}
}

// tempName is the name of the temporary file number i of process pid for a
// file named base: hidden, and naming its process, so that a later run can
// tell whether the process that left it is still alive.
func tempName(base string, pid, i int) string { return fmt.Sprintf(".%s.%d-%d.tmp", base, pid, i) }

// removeStale removes the temporary files for base in dir that processes no
// longer alive left behind (killed, or out of memory, before they could
// rename or remove them). A file whose process is alive, or whose name does
// not parse, is left alone.
func removeStale(dir, base string) {
	names, err := filepath.Glob(filepath.Join(dir, "."+globEscape(base)+".*.tmp"))
	if err != nil {
		return
	}
	prefix, self := "."+base+".", os.Getpid()
	for _, name := range names {
		rest, ok := strings.CutPrefix(filepath.Base(name), prefix)
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(strings.TrimSuffix(rest, ".tmp"), "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == self || processAlive(pid) {
			continue
		}
		os.Remove(name)
	}
}

// processAlive reports whether a process with that id exists (signal 0
// checks without sending anything).
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM) // EPERM: alive, another user's
}

// globEscape quotes the characters filepath.Match gives a meaning to.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// discard removes the temporary file unless it was committed; it is safe to
// defer right after createAtomic, and on a nil file.
func (f *atomicFile) discard() {
	if f == nil || f.done {
		return
	}
	f.tmp.Close()
	os.Remove(f.tmp.Name())
	f.done = true
}

// Write writes to the temporary file. Its errors name the path the user
// gave ("write PATH: no space left on device"), not the temporary file.
func (f *atomicFile) Write(b []byte) (int, error) {
	n, err := f.tmp.Write(b)
	if err != nil {
		err = f.pathError("write", err)
	}
	return n, err
}

// pathError is err, an error of the temporary file, as the operation op on
// the user's path.
func (f *atomicFile) pathError(op string, err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("%s %s: %w", op, f.path, err)
}

// commit closes the temporary file and renames it onto the path; on failure
// the temporary file is removed and the error, naming the path, returned.
// (Some file systems report a failed write only on close.)
func (f *atomicFile) commit() error {
	var err error
	if f.mode != 0 {
		err = f.tmp.Chmod(f.mode)
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		err = f.pathError("write", err)
	} else if err = os.Rename(f.tmp.Name(), f.path); err != nil {
		err = f.pathError("rename the finished file onto", err)
	}
	if err != nil {
		f.discard()
		return err
	}
	f.done = true
	return nil
}

// logFile is a command's --log file: every plan that asks for it writes its
// actor runs into it, one run after another.
type logFile struct {
	f *atomicFile
	w *bufio.Writer
}

// openOutputs opens the --plot file and the runs' --log, each nil when not
// asked for; on an error nothing is left open. The caller discards the plot
// unless it commits it, and closes the log.
func openOutputs(plotPath string, style figureStyle, plans []plan) (*plotFile, *logFile, error) {
	pf, err := openPlot(plotPath, style)
	if err != nil {
		return nil, nil, err
	}
	lf, err := openLog(plans)
	if err != nil {
		pf.discard()
		return nil, nil, err
	}
	return pf, lf, nil
}

// openLog creates the temporary file of the log the plans ask for (nil if
// none does) and attaches it to them. Call close after the runs, whatever
// their outcome.
func openLog(plans []plan) (*logFile, error) {
	var l *logFile
	for i := range plans {
		p := &plans[i]
		if p.logPath == "" {
			continue
		}
		if l == nil {
			f, err := createAtomic("--log", p.logPath)
			if err != nil {
				return nil, err
			}
			l = &logFile{f: f, w: bufio.NewWriterSize(f, 1<<20)}
		}
		p.opt.Log = l.w
	}
	return l, nil
}

// close completes the log once its runs have returned (their engines are
// closed): it is flushed and renamed onto its path, also after a failed or
// interrupted run, whose end record says how it ended. If the log cannot be
// written, the temporary file is removed and the error returned. runErr is
// the runs' error, returned in preference, with the log's beside it when
// both failed.
func (l *logFile) close(runErr error) error {
	if l == nil {
		return runErr
	}
	err := l.w.Flush()
	if err != nil {
		l.f.discard()
	} else {
		err = l.f.commit()
	}
	switch {
	case err != nil && runErr != nil && !errors.Is(runErr, err): // both, on one line
		return fmt.Errorf("%w; and the message log was not written: %v", runErr, err)
	case runErr != nil:
		return runErr
	case err != nil:
		return fmt.Errorf("message log: %w", err)
	}
	return runErr
}
