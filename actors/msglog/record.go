package msglog

import (
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"unicode/utf8"
)

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
