package main

import (
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/dopasim/dopasim/environment"
)

// openRegular opens a file the user named as an input (what: the flag or
// command, for messages). Anything but a regular file (or a link to one) is
// a usage error named for what it is, before it is opened: opening a FIFO
// waits for a writer, a device such as /dev/zero never ends, a directory
// has no lines.
func openRegular(what, path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, usagef("%s: %v", what, err)
	}
	if !st.Mode().IsRegular() {
		return nil, usagef("%s %s: %s, not a regular file", what, path, fileKind(st.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("%s: %v", what, err)
	}
	return f, nil
}

// fileKind names a file mode's type.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// errTooLarge is what a sizeLimit returns once its reader has given more
// than its limit.
var errTooLarge = errors.New("larger than the limit")

// sizeLimit reads r until more than limit bytes have come, then fails with
// errTooLarge, so that an input is read as a stream and never held whole
// past the limit.
type sizeLimit struct {
	r     io.Reader
	limit int64 // bytes still allowed
}

func (l *sizeLimit) Read(p []byte) (int, error) {
	if l.limit < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.limit+1 {
		p = p[:l.limit+1]
	}
	n, err := l.r.Read(p)
	l.limit -= int64(n)
	if l.limit < 0 {
		return n, errTooLarge
	}
	return n, err
}

// maxSeriesBytes bounds a --series file: 64 MiB holds several million
// values, more than the 1 000 000 samples a built-in series may have.
const maxSeriesBytes = 64 << 20

// readSeriesFile reads the values of a file:PATH series (columns of it),
// as a stream of at most maxSeriesBytes; every problem is a usage error.
func readSeriesFile(path string, columns []string) ([][]float64, []string, error) {
	f, err := openRegular("--series", path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	v, used, err := environment.LoadSeriesColumns(&sizeLimit{r: f, limit: maxSeriesBytes}, path, columns)
	switch {
	case errors.Is(err, errTooLarge):
		return nil, nil, usagef("--series %s: larger than %d MiB; dopasim reads at most that much of a series", path, maxSeriesBytes>>20)
	case err != nil:
		return nil, nil, usagef("%v", err)
	}
	return v, used, nil
}
