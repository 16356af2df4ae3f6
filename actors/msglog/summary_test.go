package msglog

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// A hand-written log of one run cut short, with a line that is not JSON.
const exampleLog = `{"kind":"run","run":"seed-7","schema":1,"level":"messages","task":"xor","arch":"mlp","seed":7,"optimizer":"wp"}
{"kind":"neuron","run":"seed-7","name":"neuron/o/000","layer":"o","inputs":["in/0","in/1","bias"],"w":[0.1,-0.2,0.3]}
{"kind":"stimulus","run":"seed-7","trial":0,"from":"env","to":"neuron/o/000","seq":0,"x":[0,0,0,1,1,0,1,1]}
{"kind":"activation","run":"seed-7","trial":0,"from":"neuron/o/000","to":"env","seq":0,"step":0,"slot":0,"vals":[0.5,0.6]}
{"kind":"scored","run":"seed-7","trial":0,"from":"env","to":"dopamine","seq":1,"loss":0.25,"loss_plus":0.2501,"end":"running"}
{"kind":"trial","run":"seed-7","trial":0,"from":"dopamine","loss":0.25,"loss_plus":0.2501,"delta":0.0001,"eta":0.4,"end":"running"}
{"kind":"dopamine","run":"seed-7","trial":0,"from":"dopamine","to":"neuron/o/000","seq":0,"delta":0.0001,"eta":0.4}
oops
{"kind":"stimulus","run":"seed-7","trial":1,"from":"env","to":"neuron/o/000","seq":2,"x":[0,0,0,1,1,0,1,1]}
`

func ExampleSummarize() {
	r := NewReader(strings.NewReader(exampleLog))
	r.Name = "run.jsonl"
	r.Warn = func(le *LineError) { fmt.Println("warning:", le) }
	s, err := Summarize(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	s.WriteText(os.Stdout)
	// Output:
	// warning: run.jsonl:8: not JSON: unexpected 'o' at byte 1 looking for a value
	// run seed-7 (lines 1-9)
	//   level         messages (schema 1)
	//   config        task xor, arch mlp, optimizer wp, seed 7
	//   records       8: run 1, neuron 1, stimulus 2, activation 1, scored 1, trial 1, dopamine 1
	//   trials        0..1 (1 trial record)
	//   loss          first 0.25, last 0.25 (trial records)
	//   end           no end record (log cut short)
	//   dead letters  0
	//   dropped       0
	//   malformed     1 line
	//   actor             sent  received    events
	//   env                  3         1         0
	//   neuron/o/000         1         3         0
	//   dopamine             1         1         1
	// total: 1 run, 9 lines, 1 malformed (line 8)
}

// The counts per kind and per actor are those of the lines, decoded
// independently with encoding/json.
func TestSummarizeCounts(t *testing.T) {
	for _, name := range []string{"xor.jsonl", "two-runs.jsonl", "trials.jsonl"} {
		s, err := Summarize(openTestdata(t, name))
		if err != nil {
			t.Fatal(err)
		}
		type counts struct {
			records                  int
			kinds, sent, received    map[string]int
			events                   map[string]int
			trials                   int
			firstTrial, lastTrial    float64
			firstLoss, lastLoss, end any
		}
		want := map[string]*counts{}
		var order []string
		for _, m := range jsonLines(t, name) {
			run := m["run"].(string)
			c := want[run]
			if c == nil {
				c = &counts{kinds: map[string]int{}, sent: map[string]int{}, received: map[string]int{}, events: map[string]int{}, firstTrial: -1}
				want[run] = c
				order = append(order, run)
			}
			c.records++
			c.kinds[m["kind"].(string)]++
			from, hasFrom := m["from"].(string)
			to, hasTo := m["to"].(string)
			switch {
			case hasFrom && hasTo:
				c.sent[from]++
				c.received[to]++
			case hasTo:
				c.received[to]++
			case hasFrom:
				c.events[from]++
			}
			if tr, ok := m["trial"].(float64); ok {
				if c.firstTrial < 0 {
					c.firstTrial = tr
				}
				c.lastTrial = tr
			}
			if m["kind"] == KindTrial {
				c.trials++
				if c.firstLoss == nil {
					c.firstLoss = m["loss"]
				}
				c.lastLoss = m["loss"]
			}
			if m["kind"] == KindEnd {
				c.end = m["how"]
			}
		}
		if len(s.Runs) != len(order) || s.Malformed != 0 {
			t.Fatalf("%s: %d runs, %d malformed; want %d runs", name, len(s.Runs), s.Malformed, len(order))
		}
		for i, rs := range s.Runs {
			c := want[order[i]]
			if rs.Run != order[i] || rs.Records != c.records || fmt.Sprint(rs.Kinds) != fmt.Sprint(c.kinds) ||
				fmt.Sprint(rs.Sent) != fmt.Sprint(c.sent) || fmt.Sprint(rs.Received) != fmt.Sprint(c.received) ||
				fmt.Sprint(rs.Events) != fmt.Sprint(c.events) {
				t.Errorf("%s: run %s: %d records, kinds %v, sent %v, received %v; want %s %d %v %v %v",
					name, rs.Run, rs.Records, rs.Kinds, rs.Sent, rs.Received, order[i], c.records, c.kinds, c.sent, c.received)
			}
			if rs.Trials != c.trials || float64(*rs.FirstTrial) != c.firstTrial || float64(*rs.LastTrial) != c.lastTrial {
				t.Errorf("%s: run %s: %d trials %d..%d, want %d %v..%v", name, rs.Run, rs.Trials, *rs.FirstTrial, *rs.LastTrial, c.trials, c.firstTrial, c.lastTrial)
			}
			if float64(*rs.FirstLoss) != c.firstLoss || float64(*rs.LastLoss) != c.lastLoss || rs.LossFrom != KindTrial {
				t.Errorf("%s: run %s: loss %v..%v from %s, want %v..%v", name, rs.Run, *rs.FirstLoss, *rs.LastLoss, rs.LossFrom, c.firstLoss, c.lastLoss)
			}
			if rs.End == nil || rs.End.How != c.end || !rs.Header || rs.FirstLine == 0 || rs.LastLine < rs.FirstLine {
				t.Errorf("%s: run %s: end %+v, header %v, lines %d-%d", name, rs.Run, rs.End, rs.Header, rs.FirstLine, rs.LastLine)
			}
		}
	}
}

// Malformed lines are counted, in the run they interrupt, and a log cut short
// says so.
func TestSummarizeMalformed(t *testing.T) {
	r := openTestdata(t, "malformed.jsonl")
	warnings := 0
	r.Warn = func(*LineError) { warnings++ }
	s, err := Summarize(r)
	if err != nil {
		t.Fatal(err)
	}
	if s.Malformed != 4 || warnings != 4 || fmt.Sprint(s.MalformedLines) != "[3 4 5 10]" || s.Lines != 10 {
		t.Errorf("malformed %d %v (warned %d), lines %d", s.Malformed, s.MalformedLines, warnings, s.Lines)
	}
	rs := s.Runs[0]
	if len(s.Runs) != 1 || rs.Malformed != 4 || rs.End != nil || rs.Level != "trials" || rs.Records != 6 {
		t.Errorf("run: %+v", rs)
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"no end record (log cut short)", "malformed     4 lines", "total: 1 run, 10 lines, 4 malformed (line 3, 4, 5, 10)", "level         trials"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}

// Without trial records the losses come from the scored messages; a log that
// starts inside a run has no header; a run name seen again continues its run,
// and a second run record opens a new one.
func TestSummarizeSections(t *testing.T) {
	data, err := os.ReadFile("testdata/xor.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.Contains(line, `"kind":"trial"`) && !strings.Contains(line, `"kind":"run"`) {
			kept = append(kept, line)
		}
	}
	log := strings.Join(kept[:10], "\n") + "\n" +
		`{"kind":"end","run":"other","how":"capped","trials":3,"loss":"NaN"}` + "\n" +
		strings.Join(kept[10:], "\n") + "\n" + string(data)
	s, err := Summarize(NewReader(strings.NewReader(log)))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Runs) != 3 {
		t.Fatalf("%d runs, want 3", len(s.Runs))
	}
	a, other, b := s.Runs[0], s.Runs[1], s.Runs[2]
	if a.Header || a.Level != "" || a.Records != len(kept) || a.LossFrom != KindScored || *a.FirstLoss != 0.25 || *a.LastLoss != 0.0099 {
		t.Errorf("headless run: header %v level %q, %d records, loss %v..%v from %s", a.Header, a.Level, a.Records, *a.FirstLoss, *a.LastLoss, a.LossFrom)
	}
	if other.Run != "other" || other.End.How != HowCapped || other.Records != 1 || other.FirstTrial != nil {
		t.Errorf("other: %+v", other)
	}
	if !b.Header || b.Run != "seed-1" || b.FirstLine != len(kept)+2 || b.LossFrom != KindTrial {
		t.Errorf("second seed-1: header %v, first line %d, loss from %s", b.Header, b.FirstLine, b.LossFrom)
	}
	var text strings.Builder
	s.WriteText(&text)
	if !strings.Contains(text.String(), "level         unknown (no run record") || !strings.Contains(text.String(), "end           capped, 3 trials run, loss NaN") {
		t.Errorf("text:\n%s", text.String())
	}
	// JSON: NaN survives as the log writes it.
	b2, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b2), `"loss":"NaN"`) {
		t.Errorf("JSON lacks the NaN loss: %s", b2)
	}
	var back Summary
	if err := json.Unmarshal(b2, &back); err != nil || len(back.Runs) != 3 || back.Runs[2].Kinds[KindWeight] != 9 {
		t.Errorf("JSON does not read back: %v", err)
	}
}

// With many actors the text groups the neurons by layer.
func TestSummaryGroupsManyActors(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&b, `{"kind":"dopamine","run":"r","trial":0,"from":"dopamine","to":"neuron/h/%03d","seq":%d,"delta":0,"eta":1}`+"\n", i, i)
	}
	s, err := Summarize(NewReader(strings.NewReader(b.String())))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	s.WriteText(&text)
	if !strings.Contains(text.String(), "neuron/h/* (30 actors)         0        30") || strings.Contains(text.String(), "neuron/h/001") {
		t.Errorf("text:\n%s", text.String())
	}
}

// A run or end record whose fields have the wrong type is malformed: it is
// reported and skipped, and the summary carries on.
func TestSummarizeBadRunAndEndRecords(t *testing.T) {
	log := strings.Replace(readFile(t, "trials.jsonl"), `"level":"trials"`, `"level":3`, 1)
	log = strings.Replace(log, `"trials":2,"loss":0.0099`, `"trials":"two","loss":0.0099`, 1)
	r := NewReader(strings.NewReader(log))
	var warned []string
	r.Warn = func(le *LineError) { warned = append(warned, le.Error()) }
	s, err := Summarize(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`line 1: "level" is 3, not a string`, `line 7: "trials" is "two", not a whole number`}
	if fmt.Sprint(warned) != fmt.Sprint(want) || s.Malformed != 2 || len(s.Runs) != 1 {
		t.Fatalf("warned %q, malformed %d, %d runs", warned, s.Malformed, len(s.Runs))
	}
	if rs := s.Runs[0]; rs.Header || rs.End != nil || rs.Records != 5 || rs.Trials != 2 || rs.Malformed != 1 {
		t.Errorf("run %+v", rs)
	}
}

// An interrupted run's end record has no trial count or loss, and a dead
// letter is not a message its receiver got.
func TestSummarizeInterruptedRunWithDeadLetter(t *testing.T) {
	log := `{"kind":"run","run":"seed-1","schema":1,"level":"messages","task":"xor","arch":"mlp","seed":1,"rule":"wp"}
{"kind":"dopamine","run":"seed-1","trial":0,"from":"dopamine","to":"neuron/h/000","seq":0,"delta":0,"eta":1}
{"kind":"deadletter","run":"seed-1","trial":0,"to":"neuron/h/000","message":"dopamine"}
{"kind":"end","run":"seed-1","how":"interrupted","reason":"run interrupted: context canceled"}
`
	s, err := Summarize(NewReader(strings.NewReader(log)))
	if err != nil {
		t.Fatal(err)
	}
	rs := s.Runs[0]
	if rs.DeadLetters != 1 || rs.Received["neuron/h/000"] != 1 || rs.Sent["dopamine"] != 1 {
		t.Errorf("dead letters %d, received %v, sent %v", rs.DeadLetters, rs.Received, rs.Sent)
	}
	if e := rs.End; e == nil || e.Trials != nil || e.Loss != nil || e.How != HowInterrupted {
		t.Errorf("end %+v", e)
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "end           interrupted (run interrupted: context canceled)\n") {
		t.Errorf("text:\n%s", text.String())
	}
	b, err := json.Marshal(rs.End)
	if err != nil || strings.Contains(string(b), "trials") || strings.Contains(string(b), "loss") {
		t.Errorf("end as JSON %s (%v): an absent field must stay absent", b, err)
	}
}

// Messages lost on the way in an async run are recorded with "dropped" and
// counted as such; notices of trials lost upstream ("lost") are not.
func TestSummarizeCountsDroppedMessages(t *testing.T) {
	log := `{"kind":"run","run":"seed-1","schema":1,"level":"messages","mode":"async"}
{"kind":"stimulus","run":"seed-1","trial":0,"from":"env","to":"neuron/h/000","seq":0,"dropped":true}
{"kind":"activation","run":"seed-1","trial":0,"from":"neuron/h/000","to":"neuron/o/000","seq":0,"step":0,"slot":0,"lost":true}
{"kind":"activation","run":"seed-1","trial":1,"from":"neuron/h/000","to":"neuron/o/000","seq":1,"step":0,"slot":0,"dropped":true}
`
	s, err := Summarize(NewReader(strings.NewReader(log)))
	if err != nil {
		t.Fatal(err)
	}
	if d := s.Runs[0].Dropped; d != 2 {
		t.Errorf("%d dropped, want 2", d)
	}
}
