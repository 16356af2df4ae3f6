package msglog

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// DefaultMaxLine is the longest line, in bytes without its newline, that a
// Reader reads as a record when Reader.MaxLine is 0. A record of a very large
// network is a few MB (the default chaos network's are 20 KB); a longer line
// is skipped as malformed rather than held in memory.
const DefaultMaxLine = 32 << 20

// Reader reads a log one record at a time. It holds one line (and the
// decoded envelope of its record) at a time, so memory does not grow with
// the file. The zero value is not usable; call NewReader.
type Reader struct {
	// Name is the file's name in the errors about its lines ("run.jsonl:17:
	// …"); empty gives "line 17: …".
	Name string
	// MaxLine is the longest line, in bytes without its newline, read as a
	// record; a longer one is a *LineError and is skipped without being held
	// in memory. 0 means DefaultMaxLine.
	MaxLine int
	// Warn, if not nil, is called with every line that NextValid skips (and
	// so Summarize, Filter.Copy, Weights and Trace).
	Warn func(*LineError)

	br      *bufio.Reader
	long    []byte // a line longer than br's buffer, assembled here
	line    int    // lines read so far
	skipped int    // lines skipped by NextValid
	err     error  // io.EOF or a read error, returned from then on
	rec     Record
	names   *internTable
	fields  []field
}

// NewReader returns a Reader of the log in r, buffered in 64 KiB.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), names: newInternTable()}
}

// LineError is a line that is not a record: blank, not JSON (a truncated
// last line is one), not a JSON object, or a record of an unknown kind or
// whose envelope fields have the wrong type. Reading carries on at the next
// line.
type LineError struct {
	Name string // the Reader's Name
	Line int    // 1-based
	Msg  string // what is wrong, on one line
}

func (e *LineError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg)
}

// Next returns the next record. A line that is not a record gives a
// *LineError, and the following call reads the next line. At the end of the
// input it returns io.EOF; a read error is returned by this and every later
// call.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	if cap(r.long) > 4<<20 {
		r.long = nil // do not keep one huge line's buffer for the rest of the file
	}
	line, newline, tooLong, err := r.readLine()
	if err != nil && (err != io.EOF || (len(line) == 0 && !tooLong)) {
		r.err = err
		return nil, err
	}
	if err == io.EOF {
		r.err = io.EOF // the last line, without a newline, is read now; EOF next time
	}
	r.line++
	if tooLong {
		return nil, r.lineError("line longer than %d bytes", r.maxLine())
	}
	if msg := r.decode(line); msg != "" {
		if !newline && strings.HasPrefix(msg, "not JSON") {
			msg = "truncated record at the end of the file (" + msg + ")"
		}
		return nil, &LineError{Name: r.Name, Line: r.line, Msg: msg}
	}
	return &r.rec, nil
}

// NextValid returns the next record, skipping the lines that are not
// records: each is passed to Warn and counted by Skipped. At the end it
// returns io.EOF; any other error is a read error.
func (r *Reader) NextValid() (*Record, error) {
	for {
		rec, err := r.Next()
		if le, ok := err.(*LineError); ok { // Next returns it unwrapped
			r.skip(le)
			continue
		}
		return rec, err
	}
}

// skip counts a skipped line and reports it to Warn.
func (r *Reader) skip(le *LineError) {
	r.skipped++
	if r.Warn != nil {
		r.Warn(le)
	}
}

// Skipped returns the number of lines NextValid (or a function reading
// through it) has skipped so far.
func (r *Reader) Skipped() int { return r.skipped }

// Line returns the number of lines read so far.
func (r *Reader) Line() int { return r.line }

func (r *Reader) lineError(format string, a ...any) *LineError {
	return &LineError{Name: r.Name, Line: r.line, Msg: fmt.Sprintf(format, a...)}
}

func (r *Reader) maxLine() int {
	if r.MaxLine > 0 {
		return r.MaxLine
	}
	return DefaultMaxLine
}

// readLine returns the next line without its newline, whether it ended in a
// newline, and whether it was longer than maxLine (then line is empty and
// the rest of it has been read and dropped). err is io.EOF when the input
// ended (line holds a last line without newline, if any).
func (r *Reader) readLine() (line []byte, newline, tooLong bool, err error) {
	b, err := r.br.ReadSlice('\n')
	if err == nil {
		if len(b)-1 > r.maxLine() {
			return nil, true, true, nil
		}
		return b[:len(b)-1], true, false, nil
	}
	if err != bufio.ErrBufferFull {
		if len(b) > r.maxLine() { // no newline: all of b is the line
			return nil, false, true, err
		}
		return b, false, false, err
	}
	r.long = append(r.long[:0], b...)
	for {
		b, err = r.br.ReadSlice('\n')
		if !tooLong && len(r.long)+len(b) > r.maxLine()+1 {
			tooLong, r.long = true, r.long[:0]
		}
		if !tooLong {
			r.long = append(r.long, b...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == nil && tooLong:
			return nil, true, true, nil
		case err == nil:
			return r.long[:len(r.long)-1], true, false, nil
		case tooLong || len(r.long) > r.maxLine(): // no newline: all of r.long is the line
			return nil, false, true, err
		default:
			return r.long, false, false, err
		}
	}
}

// decode parses line into r.rec and returns "" or what is wrong with it.
func (r *Reader) decode(line []byte) string {
	fields, msg := parseObject(line, r.fields[:0], r.names)
	r.fields = fields[:0]
	if msg != "" {
		return msg
	}
	rec := &r.rec
	*rec = Record{Line: r.line, Raw: line, fields: fields, names: r.names}
	env := findEnvelope(line, fields)
	if env.kind < 0 {
		return `no "kind" field`
	}
	if msg := r.readEnvelope(env); msg != "" {
		return msg
	}
	if missing := env.missing(rec.Kind); missing != "" {
		return fmt.Sprintf("%s record without %q", rec.Kind, missing)
	}
	return ""
}
