package protocol

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/synapse"
)

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
		c.slot, c.receivers, c.async, c.rate.every = 1, 2, async, 1
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
	c.receivers, c.async, c.rate.every = 3, true, 1
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
