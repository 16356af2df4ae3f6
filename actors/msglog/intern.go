package msglog

import "encoding/binary"

// maxIntern bounds the table of interned names (kinds, runs, actors, field
// keys); past it the table starts afresh, so a file of ever-new names still
// reads in constant memory.
const maxIntern = 1 << 12

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
