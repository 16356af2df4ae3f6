package msglog

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultMaxLine is the longest line, in bytes without its newline, that a
// Reader reads as a record when Reader.MaxLine is 0. A record of a very large
// network is a few MB (the default chaos network's are 20 KB); a longer line
// is skipped as malformed rather than held in memory.
const DefaultMaxLine = 32 << 20

// maxDepth bounds the nesting of arrays and objects in a line (records nest
// two deep); deeper lines are malformed.
const maxDepth = 1000

// maxIntern bounds the table of interned names (kinds, runs, actors, field
// keys); past it the table starts afresh, so a file of ever-new names still
// reads in constant memory.
const maxIntern = 1 << 12

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

// Record is one record of a log, decoded as far as the fields every record
// may carry (its envelope); the others are decoded on demand from Raw by
// Value, String, Float, Uint, Floats and Strings. A Record returned by Next
// or NextValid, including Raw, is only valid until the next call.
type Record struct {
	Line     int    // 1-based line number in the file
	Raw      []byte // the line as read, without its newline
	Kind     string // one of Kinds()
	Run      string // the run's name
	From     string // the sender or emitting actor; "" if the record has none
	To       string // the receiver; "" if the record has none
	Trial    uint64 // valid if HasTrial
	Seq      uint64 // the sender's message number; valid if HasSeq
	HasTrial bool
	HasSeq   bool

	fields []field
	names  *internTable
}

// field is one top-level member of a record: its key, Raw[keyStart:keyEnd]
// without the quotes unless escaped is set (then the key is in key), and its
// value, Raw[start:end].
type field struct {
	keyStart, keyEnd int
	escaped          bool
	key              string
	start, end       int
}

// keyIs reports whether the field's key is key, without allocating.
func (rec *Record) keyIs(f *field, key string) bool {
	if f.escaped {
		return f.key == key
	}
	return string(rec.Raw[f.keyStart:f.keyEnd]) == key
}

// keyString returns the field's key.
func (rec *Record) keyString(f *field) string {
	if f.escaped {
		return f.key
	}
	return rec.names.get(rec.Raw[f.keyStart-1 : f.keyEnd+1])
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

// envelope is where a record's envelope fields are among its fields (-1:
// absent).
type envelope struct{ kind, run, from, to, trial, seq int }

// findEnvelope finds the envelope in one pass over the fields; a later
// repeated key overrides an earlier one, as with encoding/json.
func findEnvelope(line []byte, fields []field) envelope {
	e := envelope{-1, -1, -1, -1, -1, -1}
	for i := range fields {
		f := &fields[i]
		key := f.key
		if !f.escaped {
			key = string(line[f.keyStart:f.keyEnd]) // not allocated: only compared
		}
		switch key {
		case "kind":
			e.kind = i
		case "run":
			e.run = i
		case "from":
			e.from = i
		case "to":
			e.to = i
		case "trial":
			e.trial = i
		case "seq":
			e.seq = i
		}
	}
	return e
}

// readEnvelope decodes the envelope fields into r.rec, or says what is
// wrong with them.
func (r *Reader) readEnvelope(env envelope) string {
	rec := &r.rec
	k, msg := rec.envelopeString(env.kind, r.names)
	if msg != "" {
		return msg
	}
	if rec.Kind = kindName(k); rec.Kind == "" {
		return fmt.Sprintf("unknown kind %q", k)
	}
	if env.run < 0 {
		return fmt.Sprintf(`%s record without "run"`, rec.Kind)
	}
	if rec.Run, msg = rec.envelopeString(env.run, r.names); msg != "" {
		return msg
	}
	if env.from >= 0 {
		if rec.From, msg = rec.envelopeString(env.from, r.names); msg != "" {
			return msg
		}
	}
	if env.to >= 0 {
		if rec.To, msg = rec.envelopeString(env.to, r.names); msg != "" {
			return msg
		}
	}
	if env.trial >= 0 {
		if rec.Trial, msg = rec.envelopeUint(env.trial); msg != "" {
			return msg
		}
		rec.HasTrial = true
	}
	if env.seq >= 0 {
		if rec.Seq, msg = rec.envelopeUint(env.seq); msg != "" {
			return msg
		}
		rec.HasSeq = true
	}
	return ""
}

// missing names the envelope field a record of kind must have and does
// not, or is "".
func (e envelope) missing(kind string) string {
	switch kind {
	case KindStimulus, KindActivation, KindScored, KindDopamine, KindFinish:
		switch {
		case e.trial < 0:
			return "trial"
		case e.from < 0:
			return "from"
		case e.to < 0:
			return "to"
		case e.seq < 0:
			return "seq"
		}
	case KindTrial, KindWeight:
		switch {
		case e.trial < 0:
			return "trial"
		case e.from < 0:
			return "from"
		}
	case KindDeadLetter:
		if e.to < 0 {
			return "to"
		}
	}
	return ""
}

// kindList is Kinds(), computed once.
var kindList = Kinds()

// kindName returns the schema's constant for kind, or "" for an unknown kind.
func kindName(kind string) string {
	if i := kindIndex(kind); i >= 0 {
		return kindList[i]
	}
	return ""
}

// kindIndex returns the index of kind in Kinds(), or −1.
func kindIndex(kind string) int {
	for i, k := range kindList {
		if k == kind {
			return i
		}
	}
	return -1
}

// envelopeString returns field i, interned, or what is wrong if it is not a
// string.
func (rec *Record) envelopeString(i int, names *internTable) (string, string) {
	f := &rec.fields[i]
	v := rec.Raw[f.start:f.end]
	if v[0] != '"' {
		return "", fmt.Sprintf("%q is not a string", rec.keyString(f))
	}
	return names.get(v), ""
}

// envelopeUint returns field i, or what is wrong if it is not a whole
// number.
func (rec *Record) envelopeUint(i int) (uint64, string) {
	f := &rec.fields[i]
	v := rec.Raw[f.start:f.end]
	n, ok := parseUint(v)
	if !ok {
		return 0, fmt.Sprintf("%q is %s, not a whole number", rec.keyString(f), clip(v))
	}
	return n, ""
}

// clip returns v for a one-line message: its first 40 bytes (whole runes)
// and an ellipsis if it is longer, whitespace as spaces.
func clip(v []byte) string {
	tail := ""
	if len(v) > 40 {
		n := 40
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		v, tail = v[:n], "…"
	}
	b := []byte(string(v))
	for i, c := range b {
		if c == '\r' || c == '\t' {
			b[i] = ' '
		}
	}
	return string(b) + tail
}

// internTable interns the strings of a log's keys and names, so that a
// record's envelope costs no allocation: a direct-mapped cache in front of a
// map. The map is bounded by maxIntern entries and starts afresh past it, so
// a file of ever-new names still reads in constant memory.
type internTable struct {
	slots [1024]internEntry
	m     map[string]internEntry
}

// internEntry is a JSON string literal, quotes included, and its string.
type internEntry struct{ literal, s string }

func newInternTable() *internTable { return &internTable{m: make(map[string]internEntry)} }

// maxInternLen is the longest literal interned; a longer one (no actor,
// kind or key is that long) is unquoted afresh, so the table stays small.
const maxInternLen = 128

// get returns the string the valid JSON string literal v denotes, the same
// string value for the same literal while the table lasts.
func (t *internTable) get(v []byte) string {
	if len(v) > maxInternLen {
		return unquote(v)
	}
	slot := &t.slots[literalHash(v)]
	if slot.literal == string(v) {
		return slot.s
	}
	e, ok := t.m[string(v)]
	if !ok {
		if len(t.m) >= maxIntern {
			clear(t.m)
		}
		e = internEntry{literal: string(v), s: unquote(v)}
		t.m[e.literal] = e
	}
	*slot = e
	return e.s
}

// literalHash is an index into internTable.slots from v's length and its
// first and last 8 bytes (all of it if shorter).
func literalHash(v []byte) int {
	h := uint64(len(v))
	if n := len(v); n >= 8 {
		h ^= binary.LittleEndian.Uint64(v) * 0x9E3779B97F4A7C15
		h ^= binary.LittleEndian.Uint64(v[n-8:]) * 0xC2B2AE3D27D4EB4F
	} else {
		for _, c := range v {
			h = h*31 + uint64(c)
		}
	}
	h *= 0x9E3779B97F4A7C15
	return int(h >> (64 - 10))
}

// unquote returns the string the valid JSON string literal v denotes.
func unquote(v []byte) string {
	body := v[1 : len(v)-1]
	plain := true
	for _, c := range body {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return string(body)
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return string(body) // unreachable: v was validated
	}
	return s
}

// parseUint parses a JSON number that is a whole number from 0 to 2^64−1.
func parseUint(v []byte) (uint64, bool) {
	if len(v) == 0 || len(v) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// find returns the index of the field key (the last one if it is repeated,
// as encoding/json reads it), or −1.
func (rec *Record) find(key string) int {
	for i := len(rec.fields) - 1; i >= 0; i-- {
		if rec.keyIs(&rec.fields[i], key) {
			return i
		}
	}
	return -1
}

// Has reports whether the record has the field key.
func (rec *Record) Has(key string) bool { return rec.find(key) >= 0 }

// Value returns the JSON text of the field key (aliasing Raw) and whether the
// record has it.
func (rec *Record) Value(key string) ([]byte, bool) {
	i := rec.find(key)
	if i < 0 {
		return nil, false
	}
	return rec.Raw[rec.fields[i].start:rec.fields[i].end], true
}

// Fields yields the record's fields in the order of the line: each key and
// its value's JSON text (aliasing Raw). A repeated key is yielded each time.
func (rec *Record) Fields() iter.Seq2[string, []byte] {
	return func(yield func(string, []byte) bool) {
		for i := range rec.fields {
			f := &rec.fields[i]
			if !yield(rec.keyString(f), rec.Raw[f.start:f.end]) {
				return
			}
		}
	}
}

// NumFields returns the number of fields of the record, repeated keys
// included.
func (rec *Record) NumFields() int { return len(rec.fields) }

// value returns the field key's JSON text or an error naming it if missing.
func (rec *Record) value(key string) ([]byte, error) {
	v, ok := rec.Value(key)
	if !ok {
		return nil, fmt.Errorf("%s record has no %q", rec.Kind, key)
	}
	return v, nil
}

// String returns the string field key. A missing field or another type is an
// error.
func (rec *Record) String(key string) (string, error) {
	v, err := rec.value(key)
	if err != nil {
		return "", err
	}
	if v[0] != '"' {
		return "", fmt.Errorf("%q is %s, not a string", key, clip(v))
	}
	return unquote(v), nil
}

// Float returns the number field key: a JSON number or one of the strings
// "NaN", "+Inf" and "-Inf". A missing field, another type or a number out of
// float64's range is an error.
func (rec *Record) Float(key string) (float64, error) {
	v, err := rec.value(key)
	if err != nil {
		return 0, err
	}
	f, err := ParseFloat(v)
	if err != nil {
		return 0, fmt.Errorf("%q: %v", key, err)
	}
	return f, nil
}

// Uint returns the whole-number field key. A missing field or another value
// is an error.
func (rec *Record) Uint(key string) (uint64, error) {
	v, err := rec.value(key)
	if err != nil {
		return 0, err
	}
	n, ok := parseUint(v)
	if !ok {
		return 0, fmt.Errorf("%q is %s, not a whole number", key, clip(v))
	}
	return n, nil
}

// Floats returns the array of numbers field key, each as Float reads it.
func (rec *Record) Floats(key string) ([]float64, error) {
	var out []float64
	err := rec.elements(key, func(v []byte) error {
		f, err := ParseFloat(v)
		out = append(out, f)
		return err
	})
	return out, err
}

// Strings returns the array of strings field key.
func (rec *Record) Strings(key string) ([]string, error) {
	var out []string
	err := rec.elements(key, func(v []byte) error {
		if v[0] != '"' {
			return fmt.Errorf("%s is not a string", clip(v))
		}
		out = append(out, unquote(v))
		return nil
	})
	return out, err
}

// elements calls f with the JSON text of each element of the array field key.
func (rec *Record) elements(key string, f func([]byte) error) error {
	v, err := rec.value(key)
	if err != nil {
		return err
	}
	if v[0] != '[' {
		return fmt.Errorf("%q is %s, not an array", key, clip(v))
	}
	i := skipSpace(v, 1)
	if v[i] == ']' {
		return nil
	}
	for {
		end, _ := skipValue(v, i, 1) // v was validated
		if err := f(v[i:end]); err != nil {
			return fmt.Errorf("%q: %v", key, err)
		}
		i = skipSpace(v, end)
		if v[i] == ']' {
			return nil
		}
		i = skipSpace(v, i+1) // the comma
	}
}

// ParseFloat reads a float the way the log writes it: a JSON number, or the
// JSON string "NaN", "+Inf" or "-Inf". A number beyond float64's range is an
// error (as with encoding/json).
func ParseFloat(v []byte) (float64, error) {
	if len(v) > 0 && v[0] == '"' {
		switch string(v) {
		case `"NaN"`:
			return math.NaN(), nil
		case `"+Inf"`:
			return math.Inf(1), nil
		case `"-Inf"`:
			return math.Inf(-1), nil
		}
		return 0, fmt.Errorf("%s is not a number", clip(v))
	}
	if end, err := skipNumber(v, 0); err != nil || end != len(v) {
		return 0, fmt.Errorf("%s is not a number", clip(v))
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return 0, fmt.Errorf("%s is out of range", clip(v))
	}
	return f, nil
}

// Float is a float64 that marshals to JSON as the log writes floats: a
// number, or the string "NaN", "+Inf" or "-Inf"; it unmarshals from either.
type Float float64

// MarshalJSON writes f in the shortest form that reads back to it.
func (f Float) MarshalJSON() ([]byte, error) {
	return AppendFloat(nil, float64(f)), nil
}

// UnmarshalJSON reads a number or "NaN", "+Inf" or "-Inf".
func (f *Float) UnmarshalJSON(b []byte) error {
	v, err := ParseFloat(b)
	if err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// AppendFloat appends v as a JSON value: the shortest number that reads back
// to v (in exponent form below 1e-6 and from 1e21 on, as encoding/json
// writes), or "NaN", "+Inf" or "-Inf" as a string.
func AppendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"+Inf"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Inf"`...)
	}
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.AppendFloat(b, v, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// parseObject checks that line is one JSON object (with any whitespace
// around it) and appends its top-level members to fields, keys interned in
// names. It returns "" or what is wrong: "blank line", "not a JSON object"
// for other JSON, or "not JSON: …".
func parseObject(line []byte, fields []field, names *internTable) ([]field, string) {
	i := skipSpace(line, 0)
	if i == len(line) {
		return fields, "blank line"
	}
	if line[i] != '{' {
		end, err := skipValue(line, i, 0)
		if err != nil {
			return fields, syntaxMsg(err)
		}
		if j := skipSpace(line, end); j != len(line) {
			return fields, syntaxMsg(unexpected(line, j, "after the value"))
		}
		return fields, "not a JSON object"
	}
	i = skipSpace(line, i+1)
	if i < len(line) && line[i] == '}' {
		i++
	} else {
		for {
			if i >= len(line) || line[i] != '"' {
				return fields, syntaxMsg(unexpected(line, i, "looking for a key"))
			}
			end, err := skipString(line, i)
			if err != nil {
				return fields, syntaxMsg(err)
			}
			f := field{keyStart: i + 1, keyEnd: end - 1}
			for _, c := range line[i+1 : end-1] {
				if c == '\\' || c >= utf8.RuneSelf {
					f.escaped, f.key = true, names.get(line[i:end])
					break
				}
			}
			i = skipSpace(line, end)
			if i >= len(line) || line[i] != ':' {
				return fields, syntaxMsg(unexpected(line, i, "after a key"))
			}
			i = skipSpace(line, i+1)
			start := i
			if i, err = skipValue(line, i, 1); err != nil {
				return fields, syntaxMsg(err)
			}
			f.start, f.end = start, i
			fields = append(fields, f)
			i = skipSpace(line, i)
			if i < len(line) && line[i] == ',' {
				i = skipSpace(line, i+1)
				continue
			}
			if i < len(line) && line[i] == '}' {
				i++
				break
			}
			return fields, syntaxMsg(unexpected(line, i, "after a value"))
		}
	}
	if i = skipSpace(line, i); i != len(line) {
		return fields, syntaxMsg(unexpected(line, i, "after the object"))
	}
	return fields, ""
}

// syntaxError is what is wrong with a line that is not JSON.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

// syntaxMsg is the LineError message for a line that skipValue rejects.
func syntaxMsg(err error) string {
	if err == errDepth {
		return err.Error()
	}
	return "not JSON: " + err.Error()
}

// errDepth is a line nested deeper than maxDepth: JSON, but not a record.
var errDepth = &syntaxError{fmt.Sprintf("nested deeper than %d", maxDepth)}

// unexpected describes the byte at i (or the end of b) met while doing what.
func unexpected(b []byte, i int, what string) error {
	if what != "" {
		what = " " + what
	}
	if i >= len(b) {
		return &syntaxError{"unexpected end of line" + what}
	}
	return &syntaxError{fmt.Sprintf("unexpected %q at byte %d%s", b[i], i+1, what)}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i], at nesting
// depth depth, after checking it.
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, unexpected(b, i, "looking for a value")
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	case c == '[':
		return skipArray(b, i, depth+1)
	case c == '{':
		return skipObject(b, i, depth+1)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return i, unexpected(b, i, "looking for a value")
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	for j := 0; j < len(lit); j++ {
		if i+j >= len(b) || b[i+j] != lit[j] {
			return i + j, unexpected(b, i+j, "looking for "+lit)
		}
	}
	return i + len(lit), nil
}

// plainByte[c] reports whether c stands for itself inside a JSON string.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipString returns the end of the JSON string whose opening quote is b[i].
func skipString(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		if plainByte[b[i]] {
			continue
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			i++
			if i >= len(b) {
				return i, unexpected(b, i, "in a string")
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for k := 0; k < 4; k++ {
					i++
					if i >= len(b) || !isHex(b[i]) {
						return i, unexpected(b, i, "in a \\u escape")
					}
				}
			default:
				return i, unexpected(b, i, "after a backslash")
			}
		case c < 0x20:
			return i, unexpected(b, i, "in a string")
		}
	}
	return i, unexpected(b, i, "in a string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipNumber returns the end of the JSON number starting at b[i].
func skipNumber(b []byte, i int) (int, error) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return i, unexpected(b, i, "in a number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return i, unexpected(b, i, "in a number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, unexpected(b, i, "in a number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, nil
}

// skipArray returns the end of the JSON array whose '[' is b[i].
func skipArray(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, errDepth
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = skipValue(b, i, depth); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		return i, unexpected(b, i, "in an array")
	}
}

// skipObject returns the end of the JSON object whose '{' is b[i].
func skipObject(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, errDepth
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, unexpected(b, i, "looking for a key")
		}
		var err error
		if i, err = skipString(b, i); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return i, unexpected(b, i, "after a key")
		}
		if i, err = skipValue(b, skipSpace(b, i+1), depth); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		return i, unexpected(b, i, "in an object")
	}
}
