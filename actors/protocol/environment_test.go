package protocol

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/environment/sim"
)

func TestEnvCorePresentsAheadAndJudges(t *testing.T) {
	cases := []struct {
		lookahead int
		max       uint64
		start     []uint64
	}{
		{0, 10, []uint64{0}},
		{1, 10, []uint64{0, 1}},
		{3, 2, []uint64{0, 1}}, // never beyond MaxTrials−1
	}
	for _, c := range cases {
		cfg := sim.Config{Hidden: 1, Sigma: 1, MaxTrials: c.max}
		e := NewEnvCore(cfg, cfg.RunTask(), c.lookahead)
		got := e.present()
		if len(got) != len(c.start) || got[len(got)-1] != c.start[len(c.start)-1] {
			t.Errorf("lookahead %d max %d: first presented %v, want %v", c.lookahead, c.max, got, c.start)
		}
	}
	cfg := sim.Config{Hidden: 1, Sigma: 1, MaxTrials: 2}
	e := NewEnvCore(cfg, cfg.RunTask(), 1)
	e.present()
	wrong := []float64{1, 0, 0, 1, 1, 0, 0, 1} // [track][pattern], 2 tracks
	v, tr, err := e.output(0, 0, wrong)
	if err != nil || v == nil || tr != 0 || v.End != sim.Running {
		t.Fatalf("trial 0: %+v %d %v", v, tr, err)
	}
	if v.Losses.Clean != 1 || v.Losses.Plus != 1 {
		t.Fatalf("losses %+v, want 1 and 1", v.Losses)
	}
	if got := e.present(); len(got) != 0 {
		t.Fatalf("presented %v beyond MaxTrials", got)
	}
	v, _, _ = e.output(1, 0, wrong)
	if v.End != sim.Capped {
		t.Fatalf("last trial end = %v, want capped", v.End)
	}
	if _, _, err := e.output(2, 0, wrong); err == nil {
		t.Fatal("output after the end accepted")
	}
}

// In async mode the environment discards the outputs of the trials it
// presented after the ending one and ends the run only once they are all in.
func TestEnvCoreAsyncDrains(t *testing.T) {
	cfg := sim.Config{Hidden: 1, Sigma: 1, MaxTrials: 1}
	e := NewEnvCore(cfg, cfg.RunTask(), 2)
	e.async = true
	e.maxTrials = 3 // present 0, 1, 2; the judge caps the run at trial 0
	if got := e.present(); len(got) != 3 {
		t.Fatalf("presented %v", got)
	}
	out := []float64{1, 0, 0, 1, 1, 0, 0, 1}
	v, _, err := e.output(0, 0, out)
	if err != nil || v != nil {
		t.Fatalf("ending trial: verdict %+v, err %v; want it held", v, err)
	}
	if v, _, err = e.output(2, 0, out); err != nil || v != nil {
		t.Fatalf("trial 2 before trial 1: verdict %+v, err %v", v, err)
	}
	v, tr, err := e.output(1, 0, out)
	if err != nil || v == nil || tr != 0 || v.End != sim.Capped {
		t.Fatalf("last outstanding output: verdict %+v for trial %d, err %v; want trial 0 capped", v, tr, err)
	}
	if got := e.present(); len(got) != 0 {
		t.Fatalf("presented %v after the end", got)
	}
}

// The environment core decides every message a start, an output or a halt
// brings about, in the order to send them: the stimuli of the trials it
// presents (one per first-layer neuron, each of which async --drop may
// lose), the scores, and what a lost trial or a halt leaves.
func TestEnvCoreStep(t *testing.T) {
	outputs := []float64{1, 0, 0, 1, 1, 0, 0, 1} // [track][pattern], 2 tracks: wrong, running
	// describe renders a step's messages: s<trial>→<neuron> for a stimulus
	// (x lost on the way), score<trial> (lost: dropped on the way, notice:
	// lost upstream, the end otherwise when not running).
	describe := func(outs []EnvOut) string {
		var parts []string
		for _, o := range outs {
			switch m := o.Msg.(type) {
			case *Stimulus:
				p := fmt.Sprintf("s%d→%d", m.Trial, o.ToFirst)
				if m.Lost {
					p += "x"
				}
				parts = append(parts, p)
			case *Scored:
				p := fmt.Sprintf("score%d", m.Trial)
				switch {
				case m.Upstream:
					p += " notice"
				case m.Lost:
					p += " lost"
				case m.End != sim.Running:
					p += " " + m.End.String()
				}
				parts = append(parts, p)
			}
		}
		return strings.Join(parts, ", ")
	}
	newCore := func(max uint64, lookahead int, async bool, drops DropRates) *EnvCore {
		cfg := sim.Config{Hidden: 1, Sigma: 1, MaxTrials: max}
		c := NewEnvCore(cfg, cfg.RunTask(), lookahead)
		c.receivers, c.async = 2, async
		if async {
			c.drop = newDropper(drops, 1, deliveryEnvDrop)
		}
		return c
	}
	for _, c := range []struct {
		name  string
		core  *EnvCore
		steps []stepCase
	}{
		{"sync, lookahead 1", newCore(3, 1, false, DropRates{}), []stepCase{
			{&Start{}, "s0→0, s0→1, s1→0, s1→1"},
			{&Activation{Trial: 0, Vals: outputs}, "score0, s2→0, s2→1"},
			{&Activation{Trial: 1, Vals: outputs}, "score1"},
			{&Activation{Trial: 2, Vals: outputs}, "score2 capped"},
		}},
		{"async, every stimulus and score dropped", newCore(2, 0, true, DropRates{Stimulus: 1, Scored: 1}), []stepCase{
			{&Start{}, "s0→0x, s0→1x"},
			{&Activation{Trial: 0, Vals: outputs}, "score0 lost, s1→0x, s1→1x"},
			{&Activation{Trial: 1, Vals: outputs}, "score1 capped"}, // the ending score is never dropped
		}},
		{"async, a trial lost upstream", newCore(3, 0, true, DropRates{}), []stepCase{
			{&Start{}, "s0→0, s0→1"},
			{&Activation{Trial: 0, Lost: true}, "score0 notice, s1→0, s1→1"},
		}},
		{"async, halted by the dopamine actor", newCore(10, 1, true, DropRates{}), []stepCase{
			{&Start{}, "s0→0, s0→1, s1→0, s1→1"},
			{&Halt{Trial: 0}, ""}, // trials 0 and 1 are still in the network
			{&Activation{Trial: 0, Vals: outputs}, ""},
			{&Activation{Trial: 1, Vals: outputs}, "score0 diverged"},
		}},
	} {
		runSteps(t, c.name, c.core.Step, describe, c.steps)
	}
}
