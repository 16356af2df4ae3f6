package protocol

import (
	"fmt"

	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// StepInputs carries everything the hidden neurons of a recurrent layer read
// at one time step τ of a trial for one block of patterns, from the layer's
// fan-out actor to each of them: Inputs[0] is x(τ), step τ of the block's
// windows ([pattern][channel], the same on every track), and Inputs[1+j]
// is h_j(τ−1), hidden neuron j's output of the step before ([track][pattern
// of the block]; zeros at τ = 0), in the order a neuron sums them. Block b
// holds the patterns b·Size … of sim.StepBlocks; a neuron computes it
// with Forward over its patterns (StepInputs.patterns). One message object goes
// to every receiver; it and its slices are read-only.
type StepInputs struct {
	Trial  uint64
	Step   int32
	Block  int32
	Inputs []synapse.Input
}

// patterns is the number of patterns of the block: x(τ)'s values over its
// width.
func (s *StepInputs) patterns() int { return len(s.Inputs[0].X) / max(s.Inputs[0].Width, 1) }

// BlockOutput carries one hidden neuron's h(τ) of one block of patterns
// ([track][pattern of the block]) to its layer's fan-out, for step τ+1.
// Slot is the sender's index in its layer.
type BlockOutput struct {
	Trial uint64
	Step  int32
	Block int32
	Slot  int32
	Vals  []float64
}

// FanoutCore is the input bus of a recurrent layer of H neurons: it takes the
// environment's windows of each trial and every neuron's output of each time
// step and block of patterns once, lays them out block by block
// (sim.StepBlocks, so that a block's inputs are one run of memory that
// stays in cache while every neuron reads it), and hands out each step of
// each block, whole, once to every neuron, instead of each neuron sending
// its output to all H (H² messages a step, and H gathers of H slots). It
// computes nothing and decides only when a block's step is complete: the
// order of the inputs, not their arrival, fixes the order in which a neuron
// sums them.
//
// The blocks go one after another, as in the reference engine: every step
// of block b, in order, then of block b+1; after the last block, the first
// block's steps of the next trial (which the neurons compute once the
// trial's dopamine is in). So at any time the neurons work on one block (and
// the last step of the one before), whose inputs every neuron reads from
// the same cache. Not safe for concurrent use.
//
// Reuse of the layout's memory is safe in sync mode, where a neuron computes
// each block's steps in order and no trial before the dopamine of the one
// before: the outputs of step τ are copied into steps[(τ+1)%2] from the
// first one's arrival on, and that neuron could compute τ only after every
// neuron's output of τ−1, so all are done reading step τ−1's inputs, which
// are in the same buffer. Step 0's x(0) is written when the step is handed
// out, after every neuron's output of step W−2 of the trial before (W ≥ 2).
type FanoutCore struct {
	win     sim.Window // W = win.Steps
	H, W, P int
	windows map[uint64][]float64 // per trial not finished by every block: [pattern][step][channel]
	done    map[uint64]int       // per such trial: blocks that have handed out its last step
	zero    *sim.StepBlocks
	steps   [2]*sim.StepBlocks
	blocks  []fanoutBlock
	active  int // the block whose steps are being handed out
}

// fanoutBlock is where one block of patterns stands.
type fanoutBlock struct {
	next  uint64   // step number to hand out next
	have  int      // outputs of step next−1 in
	newer []uint64 // per slot: 1 + the step number of its last output in (0: none)
}

// NewFanoutCore returns the bus of an H-neuron layer reading windows of win
// (at least 2 steps), P patterns a trial, with the given number of tracks, in blocks of
// size patterns (sim.BlockPatterns; every neuron of the layer must
// use the same).
func NewFanoutCore(H int, win sim.Window, P, tracks, size int) *FanoutCore {
	c := &FanoutCore{win: win, H: H, W: win.Steps, P: P, windows: map[uint64][]float64{}, done: map[uint64]int{},
		zero: sim.NewZeroStep(H, P, tracks, size, win.Width)}
	for i := range c.steps {
		c.steps[i] = sim.NewStepBlocks(H, P, tracks, size, win.Width)
	}
	c.blocks = make([]fanoutBlock, c.zero.Blocks())
	for b := range c.blocks {
		c.blocks[b].newer = make([]uint64, H)
	}
	return c
}

// window stores trial t's windows ([pattern][step][channel]) and returns the steps that
// are then complete.
func (c *FanoutCore) window(t uint64, x []float64) ([]*StepInputs, error) {
	switch {
	case len(x) != c.P*c.win.Values():
		return nil, fmt.Errorf("windows of trial %d hold %d values, want %d patterns × %d", t, len(x), c.P, c.win.Values())
	case c.windows[t] != nil:
		return nil, fmt.Errorf("windows of trial %d arrived twice", t)
	case t < c.oldest():
		return nil, fmt.Errorf("windows of trial %d arrived after that trial was computed", t)
	}
	c.windows[t] = x
	return c.ready(nil), nil
}

// oldest returns the earliest trial that some block has not finished.
func (c *FanoutCore) oldest() uint64 {
	t := c.blocks[0].next / uint64(c.W)
	for _, blk := range c.blocks[1:] {
		t = min(t, blk.next/uint64(c.W))
	}
	return t
}

// output stores hidden neuron slot's h(τ) of block b of trial t (τ < W−1:
// the last step goes to the readout) and returns the steps that are then
// complete.
func (c *FanoutCore) output(t uint64, tau, b, slot int, h []float64) ([]*StepInputs, error) {
	if tau < 0 || tau >= c.W-1 {
		return nil, fmt.Errorf("recurrent output for step %d of a %d-step window reached the fan-out", tau, c.W)
	}
	if b < 0 || b >= len(c.blocks) {
		return nil, fmt.Errorf("output for block %d of %d", b, len(c.blocks))
	}
	if slot < 0 || slot >= c.H {
		return nil, fmt.Errorf("input slot %d out of range [0, %d)", slot, c.H)
	}
	blk := &c.blocks[b]
	s := t*uint64(c.W) + uint64(tau)
	switch {
	case blk.newer[slot] == s+1:
		return nil, fmt.Errorf("output of neuron %d for trial %d step %d block %d arrived twice", slot, t, tau, b)
	case blk.next == 0:
		return nil, fmt.Errorf("output of neuron %d for trial %d step %d block %d, before any step of the block was handed out", slot, t, tau, b)
	case s+1 != blk.next:
		return nil, fmt.Errorf("output of neuron %d for trial %d step %d block %d, but the block's last step handed out is %d of trial %d",
			slot, t, tau, b, (blk.next-1)%uint64(c.W), (blk.next-1)/uint64(c.W))
	}
	dst := c.steps[(tau+1)%2].Hidden(b, slot)
	if len(h) != len(dst) {
		return nil, fmt.Errorf("output of neuron %d for block %d holds %d values, want %d", slot, b, len(h), len(dst))
	}
	copy(dst, h)
	blk.newer[slot] = s + 1
	blk.have++
	return c.ready(nil), nil
}

// ready appends to out every step, in order, whose inputs are all in: the
// steps of the block being computed, and when its last step is out, those
// of the next block (after the last block, the first one's of the next
// trial).
func (c *FanoutCore) ready(out []*StepInputs) []*StepInputs {
	for {
		b := c.active
		blk := &c.blocks[b]
		t, tau := blk.next/uint64(c.W), int(blk.next%uint64(c.W))
		win := c.windows[t]
		if win == nil || (tau > 0 && blk.have < c.H) {
			return out
		}
		in := c.zero
		if tau > 0 {
			in = c.steps[tau%2]
		}
		in.SetX(b, win, c.win, tau)
		out = append(out, &StepInputs{Trial: t, Step: int32(tau), Block: int32(b), Inputs: in.Inputs(b)})
		blk.have = 0
		blk.next++
		if tau == c.W-1 {
			c.active = (b + 1) % len(c.blocks)
			if c.done[t]++; c.done[t] == len(c.blocks) {
				delete(c.done, t)
				delete(c.windows, t)
			}
		}
	}
}

// Step handles the trial's windows (a Stimulus) or a neuron's block of a
// step (a BlockOutput) and returns the steps it completed, each for every
// neuron of the layer, in the order to send them. Its error is a protocol
// error, which fails the run.
func (c *FanoutCore) Step(m any) ([]*StepInputs, error) {
	switch m := m.(type) {
	case *Stimulus:
		return c.window(m.Trial, m.X)
	case *BlockOutput:
		return c.output(m.Trial, int(m.Step), int(m.Block), int(m.Slot), m.Vals)
	}
	return nil, nil
}
