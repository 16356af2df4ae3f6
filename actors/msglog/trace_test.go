package msglog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

type traceEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	Ph   string         `json:"ph"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	Ts   float64        `json:"ts"`
	Dur  float64        `json:"dur"`
	ID   *uint64        `json:"id"`
	Bp   string         `json:"bp"`
	S    string         `json:"s"`
	Args map[string]any `json:"args"`
}

type traceJSON struct {
	TraceEvents     []traceEvent `json:"traceEvents"`
	DisplayTimeUnit string       `json:"displayTimeUnit"`
}

// traceOf writes the trace of log and parses it back.
func traceOf(t *testing.T, log string) (traceJSON, TraceStats) {
	t.Helper()
	var out bytes.Buffer
	stats, err := Trace(&out, NewReader(strings.NewReader(log)))
	if err != nil {
		t.Fatal(err)
	}
	var tr traceJSON
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tr); err != nil {
		t.Fatalf("trace is not JSON: %v", err)
	}
	if tr.DisplayTimeUnit != "ns" {
		t.Errorf("displayTimeUnit %q", tr.DisplayTimeUnit)
	}
	return tr, stats
}

type track struct{ pid, tid int }

// checkTrace checks what every trace must satisfy: each flow start has one
// end with the same id, category and name, no earlier, each bound strictly
// inside a slice of its thread; slices of a thread nest; each thread is named
// once.
func checkTrace(t *testing.T, tr traceJSON) {
	t.Helper()
	slicesOf := map[track][]traceEvent{}
	for _, e := range tr.TraceEvents {
		if e.Ph == "X" {
			slicesOf[track{e.Pid, e.Tid}] = append(slicesOf[track{e.Pid, e.Tid}], e)
		}
	}
	enclosing := func(e traceEvent) *traceEvent {
		var best *traceEvent
		for i, x := range slicesOf[track{e.Pid, e.Tid}] {
			if x.Ts < e.Ts && e.Ts < x.Ts+x.Dur && (best == nil || x.Ts >= best.Ts) {
				best = &slicesOf[track{e.Pid, e.Tid}][i]
			}
		}
		return best
	}
	starts := map[uint64]traceEvent{}
	ends := map[uint64]traceEvent{}
	for _, e := range tr.TraceEvents {
		if e.Ph != "s" && e.Ph != "f" {
			continue
		}
		if e.ID == nil {
			t.Fatalf("flow event without a numeric id: %+v", e)
		}
		m := starts
		if e.Ph == "f" {
			m = ends
			if e.Bp != "e" {
				t.Errorf("flow end without bp e: %+v", e)
			}
		}
		if _, dup := m[*e.ID]; dup {
			t.Errorf("two %q events with id %d", e.Ph, *e.ID)
		}
		m[*e.ID] = e
		if enclosing(e) == nil {
			t.Errorf("%s event %d at %v is in no slice of its thread", e.Ph, *e.ID, e.Ts)
		}
	}
	if len(starts) != len(ends) {
		t.Errorf("%d flow starts, %d ends", len(starts), len(ends))
	}
	for id, s := range starts {
		f, ok := ends[id]
		if !ok || f.Cat != s.Cat || f.Name != s.Name || f.Ts < s.Ts || f.Pid != s.Pid {
			t.Errorf("flow %d: start %+v, end %+v", id, s, f)
		}
	}
	for tk, xs := range slicesOf {
		sort.Slice(xs, func(i, j int) bool { return xs[i].Ts < xs[j].Ts })
		for i := range xs {
			for j := i + 1; j < len(xs); j++ {
				a, b := xs[i], xs[j]
				if b.Ts < a.Ts+a.Dur && b.Ts+b.Dur > a.Ts+a.Dur {
					t.Errorf("thread %v: slices %q [%v,%v] and %q [%v,%v] overlap without nesting", tk, a.Name, a.Ts, a.Ts+a.Dur, b.Name, b.Ts, b.Ts+b.Dur)
				}
			}
		}
	}
	names := map[int]map[string]bool{}
	tids := map[int]bool{}
	for _, e := range tr.TraceEvents {
		if e.Ph == "M" && e.Name == "thread_name" {
			name := e.Args["name"].(string)
			if names[e.Pid] == nil {
				names[e.Pid] = map[string]bool{}
			}
			if names[e.Pid][name] || tids[e.Tid] {
				t.Errorf("thread %d %q named twice", e.Tid, name)
			}
			names[e.Pid][name], tids[e.Tid] = true, true
		}
	}
}

// threads returns each process's thread names by tid, and the actors in
// thread_sort_index order.
func threads(tr traceJSON) (map[int]string, map[int][]string) {
	byTid := map[int]string{}
	sortIndex := map[int]float64{}
	pidOf := map[int]int{}
	for _, e := range tr.TraceEvents {
		if e.Ph != "M" {
			continue
		}
		switch e.Name {
		case "thread_name":
			byTid[e.Tid] = e.Args["name"].(string)
			pidOf[e.Tid] = e.Pid
		case "thread_sort_index":
			sortIndex[e.Tid] = e.Args["sort_index"].(float64)
		}
	}
	order := map[int][]string{}
	var tids []int
	for tid := range byTid {
		tids = append(tids, tid)
	}
	sort.Slice(tids, func(i, j int) bool { return sortIndex[tids[i]] < sortIndex[tids[j]] })
	for _, tid := range tids {
		order[pidOf[tid]] = append(order[pidOf[tid]], byTid[tid])
	}
	return byTid, order
}

func TestTrace(t *testing.T) {
	xor := readFile(t, "xor.jsonl")
	tr, stats := traceOf(t, xor)
	checkTrace(t, tr)
	byTid, order := threads(tr)
	if got := fmt.Sprint(order[1]); got != "[env neuron/h/000 neuron/h/001 neuron/o/000 dopamine]" || len(order) != 1 {
		t.Errorf("threads in order %v", order)
	}
	messages := 0
	for _, m := range jsonLines(t, "xor.jsonl") {
		if slices.Contains(MessageKinds(), m["kind"].(string)) {
			messages++
		}
	}
	flows := 0
	for _, e := range tr.TraceEvents {
		if e.Ph == "s" {
			flows++
		}
	}
	if flows != messages || stats.Flows != messages || stats.Runs != 1 || stats.Actors != 5 {
		t.Errorf("%d flows, stats %+v; the log has %d messages", flows, stats, messages)
	}

	// The dopamine broadcast of trial 0 to the 3 neurons is one sender slice
	// from which 3 flows leave, to one receive slice on each neuron.
	var sender []traceEvent
	for _, e := range tr.TraceEvents {
		if e.Ph == "X" && e.Name == "dopamine t=0" && byTid[e.Tid] == "dopamine" {
			sender = append(sender, e)
		}
	}
	if len(sender) != 1 || sender[0].Args["messages"] != 3.0 || sender[0].Args["delta"] != 0.0001 {
		t.Fatalf("dopamine sender slices: %+v", sender)
	}
	s := sender[0]
	var out []uint64
	for _, e := range tr.TraceEvents {
		if e.Ph == "s" && e.Tid == s.Tid && s.Ts < e.Ts && e.Ts < s.Ts+s.Dur {
			out = append(out, *e.ID)
		}
	}
	var receivers []string
	for _, e := range tr.TraceEvents {
		if e.Ph == "f" && slices.Contains(out, *e.ID) {
			receivers = append(receivers, byTid[e.Tid])
		}
		if e.Ph == "X" && e.Name == "dopamine t=0" && e.Tid != s.Tid && (e.Dur != 4 || e.Args["from"] != "dopamine" || e.Args["eta"] != 0.4) {
			t.Errorf("receive slice %+v", e)
		}
	}
	sort.Strings(receivers)
	if len(out) != 3 || fmt.Sprint(receivers) != "[neuron/h/000 neuron/h/001 neuron/o/000]" {
		t.Errorf("broadcast: flows %v to %v", out, receivers)
	}

	// Time is logical: the record at position i is at 10·i µs (line i+1).
	for _, e := range tr.TraceEvents {
		line, ok := e.Args["line"].(float64)
		if ok && e.Ph == "X" && e.Cat != "message" && e.Ts != 10*(line-1) {
			t.Errorf("%s slice of line %v at %v µs", e.Name, line, e.Ts)
		}
		if e.Name == "weights t=0" && (e.Args["synapses"] != 3.0 || e.Args["in/0->neuron/h/000"] == nil && byTid[e.Tid] == "neuron/h/000") {
			t.Errorf("weights slice %+v", e)
		}
	}
}

// Each run is a process named after it; malformed lines are skipped.
func TestTraceRunsAndMalformed(t *testing.T) {
	tr, stats := traceOf(t, readFile(t, "two-runs.jsonl")+"garbage\n"+readFile(t, "malformed.jsonl"))
	checkTrace(t, tr)
	var procs []string
	for _, e := range tr.TraceEvents {
		if e.Ph == "M" && e.Name == "process_name" {
			procs = append(procs, fmt.Sprintf("%d:%s", e.Pid, e.Args["name"]))
		}
	}
	if fmt.Sprint(procs) != "[1:seed-1 2:seed-2 3:seed-1]" || stats.Runs != 3 {
		t.Errorf("processes %v, stats %+v", procs, stats)
	}
	_, order := threads(tr)
	if fmt.Sprint(order[3]) != "[neuron/h/000 neuron/h/001 neuron/o/000 dopamine]" {
		t.Errorf("threads of the trials-level run: %v", order[3])
	}
	for _, e := range tr.TraceEvents {
		if e.Ph == "i" && e.S == "p" && e.Pid == 2 && strings.HasPrefix(e.Name, "end") && e.Name != "end capped" {
			t.Errorf("end instant %q", e.Name)
		}
	}
}

// Large arrays are summarised in args; a dead letter is an instant on the
// receiver's thread.
func TestTraceArgs(t *testing.T) {
	vals := strings.Repeat("0.5,", 99) + "0.5"
	log := `{"kind":"activation","run":"r","trial":3,"from":"neuron/h/000","to":"env","seq":0,"step":0,"slot":0,"vals":[[` + vals + `],[` + vals + `]]}
{"kind":"deadletter","run":"r","trial":3,"to":"neuron/h/001","message":"dopamine"}
`
	tr, _ := traceOf(t, log)
	checkTrace(t, tr)
	var got []string
	for _, e := range tr.TraceEvents {
		switch {
		case e.Ph == "X" && e.Tid == 2:
			got = append(got, fmt.Sprint("receive ", e.Args["vals"], " ", e.Args["seq"]))
		case e.Ph == "i":
			got = append(got, fmt.Sprintf("instant %s %s %v", e.Name, e.S, e.Args["message"]))
		}
	}
	if fmt.Sprint(got) != "[receive [200 values] 0 instant deadletter dopamine t=3 t dopamine]" {
		t.Errorf("events %q", got)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestTraceWriteError(t *testing.T) {
	big := strings.Repeat(readFile(t, "xor.jsonl"), 200)
	if _, err := Trace(&failWriter{n: 100_000}, NewReader(strings.NewReader(big))); err == nil || err.Error() != "disk full" {
		t.Errorf("error %v, want disk full", err)
	}
}
