package runcheck

import (
	"testing"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/environment/sim"
)

// Async checks the invariants every async run of cfg that gave res must
// keep: each signal sent is delivered or missed, and the staleness
// histogram counts every delivered one.
func Async(t testing.TB, cfg sim.Config, res sim.Result) {
	t.Helper()
	a := res.Async
	if a == nil {
		t.Fatal("async run without async stats")
	}
	if a.Sent != a.Dropped+a.Overflowed+a.Delivered+a.Missed {
		t.Fatalf("seed %d: %d signals sent, %d dropped + %d overflowed + %d delivered + %d missed", cfg.Seed, a.Sent, a.Dropped, a.Overflowed, a.Delivered, a.Missed)
	}
	// One signal per neuron (hidden and output) for every trial but the
	// ending one, when no trial was lost.
	if want := res.Updates * uint64(cfg.Hidden+1); a.LostTrials == 0 && a.Sent != want {
		t.Fatalf("seed %d: %d signals sent for %d updates", cfg.Seed, a.Sent, res.Updates)
	}
	for _, kind := range msglog.MessageKinds() {
		m, ok := a.Messages[kind]
		if !ok || m.Sent != m.Delivered+m.Dropped {
			t.Fatalf("seed %d: %s messages %+v (present %v): sent ≠ delivered + dropped", cfg.Seed, kind, m, ok)
		}
		if kind == msglog.KindFinish && m.Dropped != 0 {
			t.Fatalf("seed %d: %d finish messages dropped", cfg.Seed, m.Dropped)
		}
	}
	if m := a.Messages[msglog.KindActivation]; m.Sent == 0 {
		t.Fatalf("seed %d: no activation counted", cfg.Seed)
	}
	var n uint64
	for _, c := range a.Staleness {
		n += c
	}
	if n != a.Delivered-a.Skipped {
		t.Fatalf("seed %d: staleness histogram counts %d updates, %d delivered and %d skipped", cfg.Seed, n, a.Delivered, a.Skipped)
	}
}

// AsyncLog checks the level-all log of an async XOR run of cfg that gave
// res: a record per activation sent (delivered or dropped) and per signal
// delivered, a weight record per parameter for each signal, each forward
// pass from the weights the log says it used, and the end record last.
func AsyncLog(t testing.TB, cfg sim.Config, res sim.Result, log []byte) {
	t.Helper()
	var dopamine, weights, activations int
	recs := Records(t, log)
	for _, r := range recs {
		switch r["kind"] {
		case msglog.KindDopamine:
			dopamine++
		case msglog.KindWeight:
			weights++
		case msglog.KindActivation:
			if r["lost"] != true { // a loss passed on is not counted as sent
				activations++
			}
		}
	}
	neurons := uint64(cfg.Hidden + 1)
	params := uint64(cfg.Hidden*3 + cfg.Hidden + 1) // hidden: 2 weights and a bias; output: H weights and a bias
	if uint64(dopamine) != res.Async.Delivered || uint64(weights) != res.Async.Delivered/neurons*params {
		t.Errorf("%d dopamine and %d weight records; %d signals delivered to %d neurons of %d parameters",
			dopamine, weights, res.Async.Delivered, neurons, params)
	}
	if sent := res.Async.Messages[msglog.KindActivation].Sent; uint64(activations) != sent {
		t.Errorf("%d activation records, %d activations sent", activations, sent)
	}
	ReplayForward(t, log) // each forward pass from the weights the log says it used
	last := recs[len(recs)-1]
	if last["kind"] != msglog.KindEnd || last["how"] != res.End.String() {
		t.Errorf("last record %v", last)
	}
	// The end record says what the neurons applied (one round of weight
	// records each), not only the trials: signals_applied = the number of
	// first-parameter weight records.
	rounds := 0
	for _, r := range recs {
		if r["kind"] == msglog.KindWeight && r["index"] == 0.0 {
			rounds++
		}
	}
	if Num(t, last["signals_applied"]) != float64(rounds) || Num(t, last["signals_sent"]) != float64(res.Async.Sent) ||
		Num(t, last["trials_lost"]) != float64(res.Async.LostTrials) || Num(t, last["updates"]) != float64(res.Updates) {
		t.Errorf("end record %v: want signals_applied %d, signals_sent %d, trials_lost %d", last, rounds, res.Async.Sent, res.Async.LostTrials)
	}
}
