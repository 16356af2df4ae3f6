package msglog

import (
	"fmt"
	"unicode/utf8"
)

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
