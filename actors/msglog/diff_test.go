package msglog

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func named(name, log string) *Reader {
	r := NewReader(strings.NewReader(log))
	r.Name = name
	return r
}

func TestDiffIdentical(t *testing.T) {
	xor := readFile(t, "xor.jsonl")
	d, err := Diff(named("a", xor), named("b", xor), 3)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	d.WriteText(&b)
	if !d.Same || d.Records != 34 || b.String() != "identical (34 records)\n" {
		t.Errorf("%+v\n%s", d, b.String())
	}
}

// The first differing line is reported with its context, both lines and the
// fields that differ.
func TestDiffChangedRecord(t *testing.T) {
	xor := readFile(t, "xor.jsonl")
	lines := strings.Split(xor, "\n")
	changed := append([]string(nil), lines...)
	changed[18] = strings.Replace(changed[18], `"dw":-0.04,"w_new":0.71`, `"dw":-0.05,"w_new":0.7,"note":"x"`, 1)
	changed[25] = strings.Replace(changed[25], `"seq":1`, `"seq":9`, 1) // a later difference, not reported
	d, err := Diff(named("a.jsonl", xor), named("b.jsonl", strings.Join(changed, "\n")), 3)
	if err != nil {
		t.Fatal(err)
	}
	if d.Same || d.Line != 19 || d.Records != 18 || d.A != lines[18] || d.B != changed[18] ||
		strings.Join(d.Context, "\n") != strings.Join(lines[15:18], "\n") || fmt.Sprint(d.Fields) != "[dw w_new note]" {
		t.Fatalf("%+v", d)
	}
	var b strings.Builder
	d.WriteText(&b)
	want := "differ at line 19:\n  16: " + lines[15] + "\n  17: " + lines[16] + "\n  18: " + lines[17] +
		"\na.jsonl:19: " + lines[18] + "\nb.jsonl:19: " + changed[18] + "\nfields that differ: dw, w_new, note\n"
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	// Less context than lines before the difference, and none at all.
	for _, n := range []int{0, 1, 100} {
		d, err := Diff(named("a", xor), named("b", strings.Join(changed, "\n")), n)
		if err != nil || len(d.Context) != min(n, 18) || n > 0 && d.Context[len(d.Context)-1] != lines[17] {
			t.Errorf("context %d: %d lines, %v", n, len(d.Context), err)
		}
	}
}

// A log that is a prefix of the other differs where it ends.
func TestDiffPrefix(t *testing.T) {
	xor := readFile(t, "xor.jsonl")
	lines := strings.SplitAfter(xor, "\n")
	prefix := strings.Join(lines[:10], "")
	for _, c := range []struct {
		a, b, want string
	}{
		{prefix, xor, "short ends at line 10; full goes on:\n"},
		{xor, prefix, "short ends at line 10; full goes on:\n"},
	} {
		na, nb := "short", "full"
		if c.a == xor {
			na, nb = "full", "short"
		}
		d, err := Diff(named(na, c.a), named(nb, c.b), 2)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		d.WriteText(&b)
		if d.Same || d.Line != 11 || d.EndedA != (na == "short") || d.EndedB != (nb == "short") || len(d.Fields) != 0 ||
			!strings.HasPrefix(b.String(), c.want) || !strings.HasSuffix(b.String(), "full:11: "+lines[10]) {
			t.Errorf("%s vs %s: %+v\n%s", na, nb, d, b.String())
		}
	}
	d, err := Diff(named("a", ""), named("b", ""), 3)
	if err != nil || !d.Same || d.Records != 0 {
		t.Errorf("two empty logs: %+v, %v", d, err)
	}
}

// A malformed line in either log stops the comparison with its file and line.
func TestDiffMalformed(t *testing.T) {
	xor := readFile(t, "xor.jsonl")
	lines := strings.SplitAfter(xor, "\n")
	broken := strings.Join(lines[:4], "") + "not json\n" + strings.Join(lines[5:], "")
	truncated := strings.Join(lines[:5], "") + lines[5][:30]
	for _, c := range []struct{ a, b, want string }{
		{xor, broken, "b.jsonl:5: not JSON"},
		{broken, xor, "a.jsonl:5: not JSON"},
		{xor, truncated, "b.jsonl:6: truncated record"},
		{xor, strings.Join(lines[:3], "") + "\n" + strings.Join(lines[3:], ""), "b.jsonl:4: blank line"},
	} {
		_, err := Diff(named("a.jsonl", c.a), named("b.jsonl", c.b), 3)
		var le *LineError
		if !errors.As(err, &le) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

// Lines that hold the same values written differently still differ, with no
// field named.
func TestDiffFormatting(t *testing.T) {
	a := `{"kind":"end","run":"r","how":"solved"}` + "\n"
	b := `{"kind":"end", "run":"r","how":"solved"}` + "\n"
	d, err := Diff(named("a", a), named("b", b), 3)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	d.WriteText(&text)
	if d.Same || len(d.Fields) != 0 || !strings.Contains(text.String(), "same fields and values, written differently") {
		t.Errorf("%+v\n%s", d, text.String())
	}
}
