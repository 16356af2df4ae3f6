package msglog

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Difference is the outcome of comparing two logs line by line.
type Difference struct {
	NameA, NameB string // the readers' names
	// Same reports that the logs hold the same records, line for line;
	// Records is then their number, and otherwise the number of equal lines
	// before the first difference.
	Same    bool
	Records int
	// Line is the 1-based line of the first difference. A and B are that
	// line of each log, or "" for a log that ended before it (EndedA,
	// EndedB: it has Line−1 lines).
	Line           int
	A, B           string
	EndedA, EndedB bool
	// Context holds up to the requested number of equal lines just before
	// Line, oldest first.
	Context []string
	// Fields are the top-level keys whose values differ (or that only one
	// of the lines has), in the order of A's line then B's; empty when the
	// lines hold the same values written differently, or a log ended.
	Fields []string
}

// Diff compares the logs a and b line by line and stops at the first line
// that differs, keeping up to context lines before it. A line that is not a
// record in either log stops the comparison with its *LineError.
func Diff(a, b *Reader, context int) (*Difference, error) {
	d := &Difference{NameA: a.Name, NameB: b.Name}
	ring := make([][]byte, 0, min(max(context, 0), 64))
	next := 0 // the oldest line in ring, once it is full
	for {
		ra, errA := a.Next()
		if errA != nil && errA != io.EOF {
			return nil, errA
		}
		rb, errB := b.Next()
		if errB != nil && errB != io.EOF {
			return nil, errB
		}
		switch {
		case errA == io.EOF && errB == io.EOF:
			d.Same = true
			return d, nil
		case errA == io.EOF || errB == io.EOF || !bytes.Equal(ra.Raw, rb.Raw):
			d.Line = d.Records + 1
			d.EndedA, d.EndedB = errA == io.EOF, errB == io.EOF
			if ra != nil {
				d.A = string(ra.Raw)
			}
			if rb != nil {
				d.B = string(rb.Raw)
			}
			if ra != nil && rb != nil {
				d.Fields = differentFields(ra, rb)
			}
			for i := range ring {
				d.Context = append(d.Context, string(ring[(next+i)%len(ring)]))
			}
			return d, nil
		}
		d.Records++
		if context <= 0 {
			continue
		}
		if len(ring) < context {
			ring = append(ring, append([]byte(nil), ra.Raw...))
			continue
		}
		ring[next] = append(ring[next][:0], ra.Raw...)
		next = (next + 1) % len(ring)
	}
}

// differentFields returns the keys whose values differ between a and b (the
// last value of a repeated key counts), in linear time.
func differentFields(a, b *Record) []string {
	values := func(r *Record) (map[string][]byte, []string) {
		m := make(map[string][]byte, r.NumFields())
		var order []string
		for k, v := range r.Fields() {
			if _, ok := m[k]; !ok {
				order = append(order, k)
			}
			m[k] = v
		}
		return m, order
	}
	va, orderA := values(a)
	vb, orderB := values(b)
	var keys []string
	for _, k := range orderA {
		if w, ok := vb[k]; !ok || !bytes.Equal(va[k], w) {
			keys = append(keys, k)
		}
	}
	for _, k := range orderB {
		if _, ok := va[k]; !ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// WriteText writes the difference for people: "identical (N records)", or
// the line number, the context lines, both lines and the fields that differ.
func (d *Difference) WriteText(w io.Writer) error {
	var b strings.Builder
	nameA, nameB := orDefault(d.NameA, "A"), orDefault(d.NameB, "B")
	switch {
	case d.Same:
		fmt.Fprintf(&b, "identical (%d records)\n", d.Records)
	case d.EndedA || d.EndedB:
		ended, goesOn, line := nameB, nameA, d.A
		if d.EndedA {
			ended, goesOn, line = nameA, nameB, d.B
		}
		fmt.Fprintf(&b, "%s ends at line %d; %s goes on:\n", ended, d.Line-1, goesOn)
		writeContext(&b, d)
		fmt.Fprintf(&b, "%s:%d: %s\n", goesOn, d.Line, line)
	default:
		fmt.Fprintf(&b, "differ at line %d:\n", d.Line)
		writeContext(&b, d)
		fmt.Fprintf(&b, "%s:%d: %s\n%s:%d: %s\n", nameA, d.Line, d.A, nameB, d.Line, d.B)
		if len(d.Fields) > 0 {
			fmt.Fprintf(&b, "fields that differ: %s\n", strings.Join(d.Fields, ", "))
		} else {
			fmt.Fprintf(&b, "same fields and values, written differently\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeContext writes the common lines before the difference.
func writeContext(b *strings.Builder, d *Difference) {
	for i, line := range d.Context {
		fmt.Fprintf(b, "  %d: %s\n", d.Line-len(d.Context)+i, line)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
