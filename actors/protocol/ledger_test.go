package protocol

import (
	"strings"
	"testing"

	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// The ledger completes once every neuron, the environment and the dopamine
// actor reported, in any order; the result holds the parameters in
// canonical order, every actor's sent messages plus the others', and the
// first output neuron's evaluations as the forward passes.
func TestLedgerCompletesInAnyOrder(t *testing.T) {
	neurons := []*NeuronReport{
		{Index: 0, Params: []float64{1, 2}, Sent: 3, Evals: 10, ScratchBytes: 8},
		{Index: 1, Params: []float64{3}, Sent: 4, Evals: 20, ScratchBytes: 16},
		{Index: 2, Params: []float64{5, 6}, Sent: 5, Evals: 7},
	}
	env := &EnvReport{Outputs: []float64{0.5}, Sent: 6}
	end := &RunEnd{Trial: 9, End: sim.Solved, Loss: 0.01, Eta: 0.2, Sent: 7, State: 24}
	reports := []any{neurons[0], neurons[1], neurons[2], env, end}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 4, 0, 3, 1}} {
		l := NewLedger(sim.Config{Seed: 5}, 3, 1, false)
		for i, k := range order {
			complete, err := l.Step(reports[k])
			if err != nil || complete != (i == len(order)-1) {
				t.Fatalf("order %v, report %d: complete %v, err %v", order, i, complete, err)
			}
		}
		res, err := l.Result(100)
		if err != nil {
			t.Fatal(err)
		}
		if want := synapse.Digest([]float64{1, 2, 3, 5, 6}); res.Digest != want || res.NumParams != 5 {
			t.Fatalf("order %v: digest %s of %d parameters, want %s of 5", order, res.Digest, res.NumParams, want)
		}
		if res.Messages != 3+4+5+6+7+100 || res.Forward != 20 || res.ScratchBytes != 24 || res.StateBytes != 24 {
			t.Fatalf("order %v: %d messages, %d forward, %d scratch bytes, %d state bytes", order, res.Messages, res.Forward, res.ScratchBytes, res.StateBytes)
		}
		if res.Trials != 10 || res.Updates != 9 || res.End != sim.Solved || res.Outputs[0] != 0.5 || res.Seed != 5 || res.Async != nil {
			t.Fatalf("order %v: %+v", order, res)
		}
	}
}

// The ledger's conservation laws, each broken once.
func TestLedgerRejects(t *testing.T) {
	sent := func(k Kind, n uint64) (c Counts) { c[k] = n; return c }
	for _, c := range []struct {
		name    string
		async   bool
		reports []any
		step    string // the error of Step, or of Result if empty
		result  string
	}{
		{"the run ended twice", false, []any{&RunEnd{Trial: 3}, &RunEnd{Trial: 4}}, "ended twice, at trials 3 and 4", ""},
		{"an activation neither delivered nor dropped", true, []any{
			&NeuronReport{Out: sent(KindActivation, 4), Dropped: sent(KindActivation, 1)},
			&EnvReport{In: sent(KindActivation, 2)}, &RunEnd{Async: &sim.AsyncStats{}}}, "", "activation messages: 4 sent, 2 delivered, 1 dropped"},
		{"a signal delivered and not received", true, []any{
			&NeuronReport{Applied: 2}, &EnvReport{}, &RunEnd{Async: &sim.AsyncStats{Delivered: 3}}}, "", "3 dopamine signals delivered but 2 received"},
	} {
		l := NewLedger(sim.Config{}, 1, 0, c.async)
		var err error
		for _, r := range c.reports {
			if _, err = l.Step(r); err != nil {
				break
			}
		}
		if c.step != "" {
			if err == nil || !strings.Contains(err.Error(), c.step) {
				t.Errorf("%s: Step error %v, want %q", c.name, err, c.step)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if _, err := l.Result(0); err == nil || !strings.Contains(err.Error(), c.result) {
			t.Errorf("%s: Result error %v, want %q", c.name, err, c.result)
		}
	}
}

// In sync mode stimuli presented ahead may arrive after a neuron's final
// report, so the message counts need not balance; in async mode they do,
// and the result carries them per kind, with the dopamine signals' own
// account and an empty staleness histogram if no signal was applied.
func TestLedgerAsyncCounts(t *testing.T) {
	unbalanced := []any{&NeuronReport{Out: Counts{KindActivation: 2}}, &EnvReport{}, &RunEnd{}}
	l := NewLedger(sim.Config{}, 1, 0, false)
	for _, r := range unbalanced {
		l.Step(r)
	}
	if _, err := l.Result(0); err != nil {
		t.Fatalf("sync: %v", err)
	}
	l = NewLedger(sim.Config{}, 1, 0, true)
	for _, r := range []any{
		&NeuronReport{In: Counts{KindStimulus: 3, KindDopamine: 1}, Out: Counts{KindActivation: 3}, Overflow: Counts{KindDopamine: 1}, Skipped: 1},
		&EnvReport{In: Counts{KindActivation: 2}, Out: Counts{KindStimulus: 4}, Dropped: Counts{KindStimulus: 1, KindActivation: 1}, LostTrials: 1},
		&RunEnd{Out: Counts{KindDopamine: 2}, Async: &sim.AsyncStats{Sent: 4, Delivered: 2, Dropped: 1, Missed: 1}},
	} {
		l.Step(r)
	}
	res, err := l.Result(0)
	if err != nil {
		t.Fatal(err)
	}
	a := res.Async
	if a.Messages["stimulus"] != (sim.MessageCount{Sent: 4, Delivered: 3, Dropped: 1}) || a.Messages["activation"] != (sim.MessageCount{Sent: 3, Delivered: 2, Dropped: 1}) {
		t.Fatalf("messages %+v", a.Messages)
	}
	if d := a.Messages["dopamine"]; d != (sim.MessageCount{Sent: 4, Delivered: 1, Dropped: 3, Overflowed: 1}) || a.Skipped != 1 || a.LostTrials != 1 {
		t.Fatalf("dopamine %+v, %d skipped, %d lost trials", d, a.Skipped, a.LostTrials)
	}
	if a.Staleness == nil || len(a.Staleness) != 0 {
		t.Fatalf("staleness %v, want an empty histogram", a.Staleness)
	}
}
