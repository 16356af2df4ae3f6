package protocol

import (
	"fmt"

	"github.com/dopasim/dopasim/synapse"
)

// directInputs is what a recurrent neuron gathers when the windows and the
// layer's outputs come to it separately, and the step it is at.
type directInputs struct {
	windows   *gather         // key: trial; one slot, the environment's windows
	rec       *gather         // key: trial·(W−1) + τ−1; slot j: h_j(τ−1)
	col, zero []float64       // x(τ) of every pattern ([pattern][channel]); h(−1)
	srcs      []synapse.Input // x(τ), h_0(τ−1) … h_{H−1}(τ−1)
	step      int             // the next time step of the trial being computed
	// out holds two output buffers, used for even and odd steps. Reusing
	// step τ's buffer at step τ+2 is safe in sync mode: before this neuron
	// can compute τ+2 it must receive every hidden neuron's h(τ+1), and each
	// of them read h(τ) before sending that. The last step's buffer is
	// reused in the next trial (at step 0 or 1, by W's parity), and every
	// step of trial t+1 waits for the dopamine of trial t, which is sent only
	// after the readout has read h(W−1). In async mode (fresh) the next
	// trial does not wait, so every step is computed into a buffer of its
	// own.
	out   [2][]float64
	fresh bool
}

func newDirectInputs(tracks, H, P, width int) *directInputs {
	d := &directInputs{windows: newGather(1), rec: newGather(H), col: make([]float64, P*width), zero: make([]float64, tracks*P),
		srcs: make([]synapse.Input, 1+H), out: [2][]float64{make([]float64, tracks*P), make([]float64, tracks*P)}}
	d.srcs[0] = synapse.Input{X: d.col, Width: width, Shared: true}
	for j := 1; j <= H; j++ {
		d.srcs[j].Width = 1
	}
	return d
}

// key is the gather key of the inputs of step tau ≥ 1 of trial t.
func (d *directInputs) key(t uint64, tau, W int) uint64 { return t*uint64(W-1) + uint64(tau-1) }

// fireDirect computes the step the neuron is at if its inputs are all in
// (at most one: the next needs this one's output back).
func (c *RecurrentCore) fireDirect() {
	d := c.direct
	win, ok := d.windows.full()
	if !ok {
		return
	}
	var prev [][]float64
	if d.step > 0 {
		if prev, ok = d.rec.full(); !ok {
			return
		}
	}
	c.win.Step(d.col, win[0], d.step)
	for j := 0; j < c.H; j++ {
		d.srcs[1+j].X = d.zero
		if d.step > 0 {
			d.srcs[1+j].X = prev[j]
		}
	}
	h := d.out[d.step%2]
	if d.fresh {
		h = make([]float64, len(h))
	}
	c.n.ForwardStep(h, c.next, d.step, 0, c.P, d.srcs)
	c.fired = append(c.fired, StepOut{Trial: c.next, Step: d.step, Last: d.step == c.W-1, H: h})
	if d.step > 0 {
		d.rec.take()
	}
	if d.step == c.W-1 {
		d.windows.take()
	}
	d.step++
	if d.step == c.W {
		d.step = 0
		c.next++
	}
}

// fannedInputs is what a recurrent neuron fed by its layer's fan-out holds:
// the steps of blocks of patterns it has taken and not computed, and its
// outputs. Its blocks of patterns are the fan-out's (sim.StepBlocks).
type fannedInputs struct {
	tracks, P, size int
	next            []uint64      // per block: the step number s = trial·W + τ it takes next
	queue           []*StepInputs // taken and not computed: the next trial's first steps
	// out[b] is block b's h(τ). One buffer a block is enough in sync mode:
	// the fan-out copies h(τ) when it arrives, and hands out step τ+1 of
	// the block (the next to write it) only after it has.
	out [][]float64
	// last is h(W−1) of every pattern, for the readout, and lastIn the
	// blocks of it computed. One buffer is enough: the next trial's last
	// step waits for the dopamine, sent after the readout has read it.
	last   []float64
	lastIn int
}

func newFannedInputs(tracks, P, size int) *fannedInputs {
	f := &fannedInputs{tracks: tracks, P: P, size: size, last: make([]float64, tracks*P)}
	blocks := (P + f.size - 1) / f.size
	f.next = make([]uint64, blocks)
	for b := range blocks {
		f.out = append(f.out, make([]float64, tracks*f.patterns(b)))
	}
	return f
}

// patterns returns how many patterns block b holds (the last may be short).
func (f *fannedInputs) patterns(b int) int { return min((b+1)*f.size, f.P) - b*f.size }

// take checks that s is the step its block is at, of the trial after the
// applied dopamines or (its first step) of the one after that, and queues
// it.
func (f *fannedInputs) take(s *StepInputs, W, H int, applied uint64) error {
	b := int(s.Block)
	switch {
	case len(s.Inputs) != 1+H:
		return fmt.Errorf("a step of %d inputs for a neuron of a %d-neuron layer", len(s.Inputs), H)
	case b < 0 || b >= len(f.next):
		return fmt.Errorf("inputs of block %d of %d", b, len(f.next))
	case s.patterns() != f.patterns(b):
		return fmt.Errorf("inputs of block %d hold %d patterns, want %d", b, s.patterns(), f.patterns(b))
	}
	if want := f.next[b]; s.Trial*uint64(W)+uint64(s.Step) != want {
		return fmt.Errorf("inputs of trial %d step %d block %d, expected trial %d step %d", s.Trial, s.Step, b, want/uint64(W), want%uint64(W))
	}
	if s.Trial != applied && (s.Trial != applied+1 || s.Step != 0) {
		return fmt.Errorf("inputs of trial %d step %d block %d before the dopamine of trial %d", s.Trial, s.Step, b, applied)
	}
	f.next[b]++
	f.queue = append(f.queue, s)
	return nil
}

// fireFanned computes every queued step of the trial being computed, in
// the order taken, and keeps the rest.
func (c *RecurrentCore) fireFanned() {
	f := c.fanned
	kept := f.queue[:0]
	for _, s := range f.queue {
		if s.Trial != c.applied {
			kept = append(kept, s)
			continue
		}
		b, n := int(s.Block), s.patterns()
		h := f.out[b]
		c.n.ForwardStep(h, s.Trial, int(s.Step), b*f.size, n, s.Inputs)
		if int(s.Step) < c.W-1 {
			c.fired = append(c.fired, StepOut{Trial: s.Trial, Step: int(s.Step), Block: b, H: h})
			continue
		}
		lo := b * f.size
		for k := range f.tracks {
			copy(f.last[k*f.P+lo:k*f.P+lo+n], h[k*n:(k+1)*n])
		}
		if f.lastIn++; f.lastIn == len(f.out) {
			f.lastIn = 0
			c.next++
			c.fired = append(c.fired, StepOut{Trial: s.Trial, Step: c.W - 1, Last: true, H: f.last})
		}
	}
	clear(f.queue[len(kept):])
	f.queue = kept
}
