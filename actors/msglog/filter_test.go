package msglog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
)

func ExampleFilter() {
	log := `{"kind":"trial","run":"seed-1","trial":0,"from":"dopamine","loss":0.25,"loss_plus":0.2501,"delta":0.0001,"eta":0.4,"end":"running"}
{"kind":"dopamine","run":"seed-1","trial":0,"from":"dopamine","to":"neuron/h/000","seq":0,"delta":0.0001,"eta":0.4}
{"kind":"dopamine","run":"seed-1","trial":0,"from":"dopamine","to":"neuron/o/000","seq":1,"delta":0.0001,"eta":0.4}
{"kind":"dopamine","run":"seed-1","trial":1,"from":"dopamine","to":"neuron/h/000","seq":2,"delta":-0.0002,"eta":0.4}
`
	f := Filter{Kinds: []string{KindDopamine}, To: "neuron/h/*", Trials: &TrialRange{Lo: 1, Hi: math.MaxUint64}}
	n, err := f.Copy(os.Stdout, NewReader(strings.NewReader(log)))
	fmt.Println(n, err)
	// Output:
	// {"kind":"dopamine","run":"seed-1","trial":1,"from":"dopamine","to":"neuron/h/000","seq":2,"delta":-0.0002,"eta":0.4}
	// 1 <nil>
}

func TestParseTrialRange(t *testing.T) {
	good := []struct {
		in     string
		lo, hi uint64
	}{
		{"7", 7, 7},
		{" 3..5 ", 3, 5},
		{"5..5", 5, 5},
		{"10..", 10, math.MaxUint64},
		{"..4", 0, 4},
		{"0..18446744073709551615", 0, math.MaxUint64},
	}
	for _, c := range good {
		r, err := ParseTrialRange(c.in)
		if err != nil || r.Lo != c.lo || r.Hi != c.hi {
			t.Errorf("%q: %v, %v; want %d..%d", c.in, r, err, c.lo, c.hi)
		}
	}
	for _, in := range []string{"", "..", "5..3", "-1", "1..-2", "a", "1...3", "1..2..3", "+4", "0x10", "1_0", "18446744073709551616", "1.5"} {
		if r, err := ParseTrialRange(in); err == nil {
			t.Errorf("%q: accepted as %v", in, r)
		}
	}
}

// FuzzParseTrialRange: an accepted range is ordered and its String reads back
// to it; an error is one line.
func FuzzParseTrialRange(f *testing.F) {
	for _, s := range []string{"7", "3..5", "10..", "..4", "..", "5..3", "-1", "1...3", " 2 .. 9 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseTrialRange(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if r.Lo > r.Hi {
			t.Fatalf("%q: accepted %d..%d", s, r.Lo, r.Hi)
		}
		back, err := ParseTrialRange(r.String())
		if err != nil || back != r {
			t.Fatalf("%q: %v prints as %q, which reads as %v, %v", s, r, r.String(), back, err)
		}
		if !r.Contains(r.Lo) || !r.Contains(r.Hi) || r.Lo > 0 && r.Contains(r.Lo-1) || r.Hi < math.MaxUint64 && r.Contains(r.Hi+1) {
			t.Fatalf("%q: Contains disagrees with %d..%d", s, r.Lo, r.Hi)
		}
	})
}

// Copy keeps exactly the lines the filter's definition selects, decoded
// independently with encoding/json, unchanged and in order.
func TestFilterCopy(t *testing.T) {
	data, err := os.ReadFile("testdata/xor.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	lines = lines[:len(lines)-1]
	maps := jsonLines(t, "xor.jsonl")
	filters := []Filter{
		{},
		{Kinds: []string{KindDopamine, KindFinish}},
		{From: "neuron/h/*"},
		{To: "neuron/*/000"},
		{To: "env"},
		{Trials: &TrialRange{1, 1}},
		{Trials: &TrialRange{0, 0}, Kinds: []string{KindWeight}, From: "neuron/o/000"},
		{Run: "seed-?"},
		{Run: "seed-2"},
		{From: "*"},
	}
	for _, f := range filters {
		if err := f.Check(); err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var want strings.Builder
		for i, m := range maps {
			if wantMatch(f, m) {
				want.WriteString(lines[i])
			}
		}
		var got bytes.Buffer
		n, err := f.Copy(&got, openTestdata(t, "xor.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() || n != strings.Count(want.String(), "\n") {
			t.Errorf("%+v: %d lines\n%s\nwant\n%s", f, n, got.String(), want.String())
		}
	}
}

// wantMatch is the filter's definition, on a line decoded by encoding/json.
func wantMatch(f Filter, m map[string]any) bool {
	glob := func(pattern, key string) bool {
		v, ok := m[key].(string)
		if pattern == "" {
			return true
		}
		ok2, _ := path.Match(pattern, v)
		return ok && ok2
	}
	if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, m["kind"].(string)) {
		return false
	}
	if f.Trials != nil {
		tr, ok := m["trial"].(float64)
		if !ok || tr < float64(f.Trials.Lo) || tr > float64(f.Trials.Hi) {
			return false
		}
	}
	return glob(f.Run, "run") && glob(f.From, "from") && glob(f.To, "to")
}

// Records without "to" (or "trial") never match a --to (or --trial) filter,
// even a pattern that matches anything; malformed lines are skipped and
// reported.
func TestFilterAbsentFieldsAndMalformed(t *testing.T) {
	r := openTestdata(t, "malformed.jsonl")
	var warned []int
	r.Warn = func(le *LineError) { warned = append(warned, le.Line) }
	var out bytes.Buffer
	f := Filter{To: "*"}
	if n, err := f.Copy(&out, r); n != 0 || err != nil || out.Len() != 0 {
		t.Errorf("--to '*' on records without to: %d, %v, %q", n, err, out.String())
	}
	if fmt.Sprint(warned) != "[3 4 5 10]" {
		t.Errorf("warned about lines %v", warned)
	}
	f = Filter{Trials: &TrialRange{0, math.MaxUint64}}
	n, err := f.Copy(&out, openTestdata(t, "malformed.jsonl"))
	if n != 2 || err != nil || strings.Count(out.String(), `"kind":"trial"`) != 2 {
		t.Errorf("--trial 0..: %d, %v, %q", n, err, out.String())
	}
	var m map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("output line %q: %v", line, err)
		}
	}
}

func TestFilterCheck(t *testing.T) {
	for _, f := range []Filter{{Kinds: []string{"dopamine", "gossip"}}, {From: "neuron/["}, {To: `a\`}, {Run: "[]"}} {
		err := f.Check()
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: %v", f, err)
		}
	}
}
