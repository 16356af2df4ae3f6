package protocol

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

func TestGatherAssemblesInSlotOrder(t *testing.T) {
	type put struct {
		trial uint64
		slot  int
		v     float64
	}
	cases := []struct {
		name string
		puts []put
		// after all puts: the trials taken in order and their slot values
		want [][]float64
		err  string
	}{
		{"in order", []put{{0, 0, 1}, {0, 1, 2}}, [][]float64{{1, 2}}, ""},
		{"reversed", []put{{0, 1, 2}, {0, 0, 1}}, [][]float64{{1, 2}}, ""},
		{"next trial first", []put{{1, 0, 3}, {1, 1, 4}, {0, 1, 2}, {0, 0, 1}}, [][]float64{{1, 2}, {3, 4}}, ""},
		{"far ahead grows the ring", []put{{9, 0, 9}, {9, 1, 9}, {0, 0, 1}, {0, 1, 2}}, [][]float64{{1, 2}}, ""},
		{"incomplete", []put{{0, 0, 1}}, nil, ""},
		{"duplicate", []put{{0, 0, 1}, {0, 0, 1}}, nil, "arrived twice"},
		{"bad slot", []put{{0, 2, 1}}, nil, "out of range"},
	}
	for _, c := range cases {
		g := newGather(2)
		var err error
		for _, p := range c.puts {
			if err = g.put(p.trial, p.slot, []float64{p.v}); err != nil {
				break
			}
		}
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got [][]float64
		for {
			vals, ok := g.full()
			if !ok {
				break
			}
			row := []float64{vals[0][0], vals[1][0]}
			got = append(got, row)
			g.take()
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: took %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i][0] != c.want[i][0] || got[i][1] != c.want[i][1] {
				t.Errorf("%s: took %v, want %v", c.name, got, c.want)
			}
		}
	}
	g := newGather(1)
	_ = g.put(0, 0, []float64{1})
	g.take()
	if err := g.put(0, 0, []float64{1}); err == nil || !strings.Contains(err.Error(), "after that trial") {
		t.Errorf("stale input: err = %v", err)
	}
}

// The sync firing rule: a neuron computes trial t only when it holds every
// input of t and has applied the dopamine of t−1, and then its output equals a
// direct Forward on the same inputs.
func TestNeuronCoreFiringRule(t *testing.T) {
	cfg := synapse.Config{FanIn: 2, Sigma: 0.1, Activation: synapse.Tanh}
	mk := func() *synapse.Neuron {
		n, err := synapse.NewNeuron(cfg, 5, []float64{0.3, -0.2, 0.1})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	P := 1
	c := NewNeuronCore(mk(), 0, P, []int{1, 1}, false)
	direct := mk()
	x0 := []float64{1, 1.5} // slot 0, [track][pattern]
	x1 := []float64{-1, -0.5}

	step := func(what string, out []float64, tr uint64, err error, wantFire bool, wantTrial uint64) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if (out != nil) != wantFire {
			t.Fatalf("%s: fired = %v, want %v", what, out != nil, wantFire)
		}
		if wantFire && tr != wantTrial {
			t.Fatalf("%s: fired trial %d, want %d", what, tr, wantTrial)
		}
	}
	out, tr, err := c.input(0, 1, x1)
	step("slot 1 of trial 0", out, tr, err, false, 0)
	out, tr, err = c.input(1, 0, x0) // trial 1 arrives early
	step("slot 0 of trial 1", out, tr, err, false, 0)
	out, tr, err = c.input(0, 0, x0)
	step("slot 0 of trial 0", out, tr, err, true, 0)

	want := make([]float64, 2*P)
	direct.Forward(want, 0, P, []synapse.Input{{X: x0, Width: 1}, {X: x1, Width: 1}})
	if out[0] != want[0] || out[1] != want[1] {
		t.Fatalf("trial 0 output %v, direct Forward %v", out, want)
	}

	out, tr, err = c.input(1, 1, x1) // trial 1 complete, but no dopamine for 0 yet
	step("slot 1 of trial 1", out, tr, err, false, 0)
	out, tr, err = c.dopamine(0, 0.02, 0.5)
	step("dopamine 0", out, tr, err, true, 1)
	direct.Learn(0, 0.02, 0.5)
	direct.Forward(want, 1, P, []synapse.Input{{X: x0, Width: 1}, {X: x1, Width: 1}})
	if out[0] != want[0] || out[1] != want[1] {
		t.Fatalf("trial 1 output %v, direct Learn+Forward %v", out, want)
	}

	if _, _, err := c.dopamine(0, 1, 1); err == nil {
		t.Error("dopamine for an applied trial accepted")
	}
	if _, _, err := c.dopamine(2, 1, 1); err == nil {
		t.Error("dopamine for a trial not computed accepted")
	}
}

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

func TestDopamineCoreOrderAndDivergence(t *testing.T) {
	mod, _ := neuromod.New(neuromod.Config{Rule: neuromod.Fixed, Eta: 1, Sigma: 1})
	var seen []sim.TrialStats
	cfg := sim.Config{Sigma: 1}
	c := &DopamineCore{cfg: cfg, mod: mod, record: true, observe: func(s sim.TrialStats) { seen = append(seen, s) }}
	sig, end, _, err := c.scored(&Scored{Trial: 0, Losses: neuromod.Losses{Clean: 1, Plus: 1.5}})
	if err != nil || end != sim.Running || sig.Delta != 0.5 || sig.Eta != 1 {
		t.Fatalf("trial 0: %+v %v %v", sig, end, err)
	}
	if _, _, _, err := c.scored(&Scored{Trial: 5}); err == nil {
		t.Fatal("out-of-order scores accepted")
	}
	_, end, reason, err := c.scored(&Scored{Trial: 1, Losses: neuromod.Losses{Clean: 1, Plus: 1e308}})
	if err != nil || end != sim.Running {
		t.Fatalf("finite huge loss: %v %v", end, err)
	}
	mod2, _ := neuromod.New(neuromod.Config{Rule: neuromod.Fixed, Eta: 1, Sigma: 1})
	c2 := &DopamineCore{cfg: cfg, mod: mod2}
	_, end, reason, _ = c2.scored(&Scored{Trial: 0, Losses: neuromod.Losses{Clean: 1, Plus: math.Inf(1)}})
	if end != sim.Diverged || !strings.Contains(reason, "trial 0") {
		t.Fatalf("infinite loss: end %v reason %q", end, reason)
	}
	if len(seen) != 2 || len(c.curve) != 2 || c.curve[0] != 1 {
		t.Fatalf("observed %d trials, curve %v", len(seen), c.curve)
	}
	// A finite signal whose update coefficient −η·δ·g overflows ends the run
	// where it happens.
	mod3, _ := neuromod.New(neuromod.Config{Rule: neuromod.Fixed, Eta: 1e308, Sigma: 1})
	c3 := &DopamineCore{cfg: sim.Config{Sigma: 1e-3}, mod: mod3}
	_, end, reason, _ = c3.scored(&Scored{Trial: 0, Losses: neuromod.Losses{Clean: 1, Plus: 1.5}})
	if end != sim.Diverged || !strings.Contains(reason, "update coefficient") {
		t.Fatalf("overflowing coefficient: end %v reason %q", end, reason)
	}
}

// The async firing rule: a neuron computes a trial as soon as its inputs are
// here, with the weights it holds; a signal for a computed trial is applied
// whenever it comes, credited to that trial's ξ, and counted by staleness.
func TestNeuronCoreAsync(t *testing.T) {
	cfg := synapse.Config{FanIn: 1, Sigma: 0.1, Activation: synapse.Tanh}
	mk := func() *synapse.Neuron {
		n, err := synapse.NewNeuron(cfg, 7, []float64{0.4, -0.1})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	c := NewNeuronCore(mk(), 0, 1, []int{1}, false)
	c.async = true
	direct := mk()
	x := []float64{0.5, 0.5}
	for tr := uint64(0); tr < 3; tr++ {
		out, got, err := c.input(tr, 0, x)
		if err != nil || out == nil || got != tr {
			t.Fatalf("trial %d: fired %v (trial %d), err %v; async waits for no signal", tr, out != nil, got, err)
		}
	}
	if _, _, err := c.dopamine(3, 1, 1); err == nil {
		t.Fatal("a signal for a trial not computed was accepted")
	}
	// Signals out of order: trial 1's, then trial 0's.
	for _, s := range []struct {
		trial       uint64
		delta, eta  float64
		wantStale   uint64
		wantApplied uint64
	}{{1, 0.03, 0.5, 1, 1}, {0, -0.01, 0.5, 2, 2}} {
		if out, _, err := c.dopamine(s.trial, s.delta, s.eta); err != nil || out != nil {
			t.Fatalf("signal of trial %d: out %v, err %v", s.trial, out, err)
		}
		direct.Learn(s.trial, s.delta, s.eta)
		if c.applied != s.wantApplied || c.stale[s.wantStale] != 1 {
			t.Fatalf("after trial %d's signal: applied %d, staleness %v", s.trial, c.applied, c.stale)
		}
	}
	if got, want := c.n.Params(nil), direct.Params(nil); got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("params %v, direct Learn in the same order %v", got, want)
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

// The dopamine core decides everything a scored trial brings about, and
// Step says it: a broadcast or the end in sync mode; in async mode the
// signals due (one per neuron, here with no delay), nothing for a lost
// trial, and, when its own signal diverges while the environment goes on,
// a halt, silence for the trials still in flight, and the end it had
// decided once the environment has drained.
func TestDopamineCoreStep(t *testing.T) {
	newCore := func(async bool, eta float64) *DopamineCore {
		mod, _ := neuromod.New(neuromod.Config{Rule: neuromod.Fixed, Eta: eta, Sigma: 1})
		c := &DopamineCore{cfg: sim.Config{Sigma: 1}, mod: mod}
		if async {
			c.async, c.neurons, c.rng = true, 3, deliveryRand(1, deliveryDopamine)
		}
		return c
	}
	losses := neuromod.Losses{Clean: 1, Plus: 1.5}
	type want struct {
		broadcast bool
		signals   int
		halt      bool
		finish    sim.End // 0 (Running): no finish
	}
	type step struct {
		in   Scored
		want want
	}
	for _, c := range []struct {
		name  string
		core  *DopamineCore
		steps []step
	}{
		{"sync", newCore(false, 1), []step{
			{Scored{Trial: 0, Losses: losses}, want{broadcast: true}},
			{Scored{Trial: 1, Losses: losses, End: sim.Capped}, want{finish: sim.Capped}},
		}},
		{"async", newCore(true, 1), []step{
			{Scored{Trial: 0, Losses: losses}, want{signals: 3}},
			{Scored{Trial: 1, Lost: true}, want{}},
			{Scored{Trial: 2, Losses: losses, End: sim.Solved}, want{finish: sim.Solved}},
		}},
		{"async, a diverging signal", newCore(true, math.MaxFloat64), []step{
			{Scored{Trial: 0, Losses: neuromod.Losses{Clean: 1, Plus: 3}, Outputs: []float64{0.25}}, want{halt: true}}, // −η·δ overflows
			{Scored{Trial: 1, Losses: losses}, want{}},
			{Scored{Trial: 2, Losses: losses, End: sim.Capped}, want{finish: sim.Diverged}},
		}},
	} {
		for i, s := range c.steps {
			got, err := c.core.Step(&s.in)
			if err != nil {
				t.Fatalf("%s step %d: %v", c.name, i, err)
			}
			g := want{broadcast: got.Broadcast != nil, signals: len(got.Signals), halt: got.Halt != nil}
			if got.Finish != nil {
				g.finish = got.Finish.End
			}
			if g != s.want {
				t.Errorf("%s step %d: %+v, want %+v", c.name, i, g, s.want)
			}
			if got.Finish != nil && g.finish == sim.Diverged && (got.Finish.Trial != 0 || len(got.Finish.Outputs) != 1) {
				t.Errorf("%s: the end it decided is %+v, want trial 0 and its outputs", c.name, got.Finish)
			}
		}
	}
	if _, err := newCore(false, 1).Step(&Scored{Trial: 3}); err == nil {
		t.Error("scores of trial 3 first accepted")
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
	type step struct {
		in   any
		want string
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
		steps []step
	}{
		{"sync, lookahead 1", newCore(3, 1, false, DropRates{}), []step{
			{&Start{}, "s0→0, s0→1, s1→0, s1→1"},
			{&Activation{Trial: 0, Vals: outputs}, "score0, s2→0, s2→1"},
			{&Activation{Trial: 1, Vals: outputs}, "score1"},
			{&Activation{Trial: 2, Vals: outputs}, "score2 capped"},
		}},
		{"async, every stimulus and score dropped", newCore(2, 0, true, DropRates{Stimulus: 1, Scored: 1}), []step{
			{&Start{}, "s0→0x, s0→1x"},
			{&Activation{Trial: 0, Vals: outputs}, "score0 lost, s1→0x, s1→1x"},
			{&Activation{Trial: 1, Vals: outputs}, "score1 capped"}, // the ending score is never dropped
		}},
		{"async, a trial lost upstream", newCore(3, 0, true, DropRates{}), []step{
			{&Start{}, "s0→0, s0→1"},
			{&Activation{Trial: 0, Lost: true}, "score0 notice, s1→0, s1→1"},
		}},
		{"async, halted by the dopamine actor", newCore(10, 1, true, DropRates{}), []step{
			{&Start{}, "s0→0, s0→1, s1→0, s1→1"},
			{&Halt{Trial: 0}, ""}, // trials 0 and 1 are still in the network
			{&Activation{Trial: 0, Vals: outputs}, ""},
			{&Activation{Trial: 1, Vals: outputs}, "score0 diverged"},
		}},
	} {
		for i, s := range c.steps {
			outs, err := c.core.Step(s.in)
			if err != nil {
				t.Fatalf("%s step %d: %v", c.name, i, err)
			}
			if got := describe(outs); got != s.want {
				t.Errorf("%s step %d: %q, want %q", c.name, i, got, s.want)
			}
		}
	}
}

// The neuron core decides what each input and signal brings about, and Step
// says it: the activations of every trial it could compute, one per
// receiver (the same message), in sync mode only once the previous trial's
// signal is applied; in async mode as soon as the inputs are in, with
// --drop's losses and a loss passed on as a notice.
func TestNeuronCoreStep(t *testing.T) {
	newCore := func(async bool, drop float64) *NeuronCore {
		n, err := synapse.NewNeuron(synapse.Config{FanIn: 2, Sigma: 1e-3}, 5, []float64{0.3, -0.2, 0.1})
		if err != nil {
			t.Fatal(err)
		}
		c := NewNeuronCore(n, 0, 4, []int{2}, true)
		c.slot, c.receivers, c.async, c.every = 1, 2, async, 1
		if async {
			c.drop = newDropper(DropRates{Activation: drop}, 1, deliveryNeuronDrop)
		}
		return c
	}
	x := []float64{0, 0, 0, 1, 1, 0, 1, 1}
	// describe renders a step's activations: a<trial>→<receiver>, with x
	// for one lost on the way and ! for a loss notice.
	describe := func(outs []NeuronOut) string {
		var parts []string
		for _, o := range outs {
			p := fmt.Sprintf("a%d→%d", o.Msg.Trial, o.To)
			switch {
			case o.Msg.Upstream:
				p += "!"
			case o.Msg.Lost:
				p += "x"
			case o.Msg.Slot != 1 || len(o.Msg.Vals) != 2*4:
				p += "?"
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, ", ")
	}
	type step struct {
		in   any
		want string
	}
	for _, c := range []struct {
		name  string
		core  *NeuronCore
		steps []step
	}{
		{"sync: trial 1 waits for trial 0's signal", newCore(false, 0), []step{
			{&Stimulus{Trial: 0, X: x}, "a0→0, a0→1"},
			{&Stimulus{Trial: 1, X: x}, ""},
			{&Dopamine{Trial: 0, Delta: 0.1, Eta: 1}, "a1→0, a1→1"},
		}},
		{"async: at once, and a lost input passed on", newCore(true, 0), []step{
			{&Stimulus{Trial: 0, X: x}, "a0→0, a0→1"},
			{&Stimulus{Trial: 1, Lost: true}, "a1→0!, a1→1!"},
			{&Dopamine{Trial: 0, Delta: 0.1, Eta: 1}, ""},
		}},
		{"async: every activation dropped", newCore(true, 1), []step{
			{&Stimulus{Trial: 0, X: x}, "a0→0x, a0→1x"},
		}},
	} {
		for i, s := range c.steps {
			outs, err := c.core.Step(s.in)
			if err != nil {
				t.Fatalf("%s step %d: %v", c.name, i, err)
			}
			if got := describe(outs); got != s.want {
				t.Errorf("%s step %d: %q, want %q", c.name, i, got, s.want)
			}
			if len(outs) == 2 && !outs[0].Msg.Lost && outs[0].Msg != outs[1].Msg {
				t.Errorf("%s step %d: the receivers got two messages, not one", c.name, i)
			}
		}
	}
	if _, err := newCore(false, 0).Step(&Dopamine{Trial: 0}); err == nil {
		t.Error("a signal for a trial not computed yet was accepted")
	}
}

// Each activation a neuron sends, a loss notice included, takes the next
// draw of its wall-clock delay stream, in the order sent.
func TestNeuronCoreWallDelays(t *testing.T) {
	n, err := synapse.NewNeuron(synapse.Config{FanIn: 2, Sigma: 1e-3}, 5, []float64{0.3, -0.2, 0.1})
	if err != nil {
		t.Fatal(err)
	}
	c := NewNeuronCore(n, 0, 4, []int{2}, true)
	c.receivers, c.async, c.every = 3, true, 1
	c.wdelay, _ = ParseDelay("uniform:0..100us")
	c.wrng = deliveryRand(9, deliveryWallDelay+4)
	fresh := deliveryRand(9, deliveryWallDelay+4)
	x := []float64{0, 0, 0, 1, 1, 0, 1, 1}
	for _, in := range []any{&Stimulus{Trial: 0, X: x}, &Stimulus{Trial: 1, Lost: true}, &Stimulus{Trial: 2, X: x}} {
		outs, err := c.Step(in)
		if err != nil || len(outs) != 3 {
			t.Fatalf("%+v: %d outputs, %v", in, len(outs), err)
		}
		for _, o := range outs {
			if _, want := c.wdelay.split(fresh); o.Wall != want || want <= 0 {
				t.Fatalf("trial %d to %d: held %v, the stream's next draw is %v", o.Msg.Trial, o.To, o.Wall, want)
			}
		}
	}
}
