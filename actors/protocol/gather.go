package protocol

import "fmt"

// gather collects, for each trial, one value slice per input slot, so that an
// actor can fire for a trial only when it holds all of them and then read them
// in slot order, whatever order they arrived in. Trials are taken in
// increasing order; values for later trials wait in a ring that grows when
// needed. The zero value is not usable; call newGather.
type gather struct {
	slots int
	base  uint64 // lowest trial not yet taken
	ring  []gathered
	// newest[slot] is 1 + the latest trial that slot delivered (0: none);
	// overtaken counts values that arrived after a later trial's value in
	// the same slot (async delays reorder messages).
	newest    []uint64
	overtaken uint64
}

type gathered struct {
	trial uint64
	have  int
	vals  [][]float64
}

func newGather(slots int) *gather {
	g := &gather{slots: slots, newest: make([]uint64, slots)}
	g.grow(4)
	return g
}

func (g *gather) grow(n int) {
	old := g.ring
	g.ring = make([]gathered, n)
	for i := range g.ring {
		g.ring[i].vals = make([][]float64, g.slots)
	}
	for _, e := range old {
		if e.have > 0 {
			g.ring[e.trial%uint64(n)] = e
		}
	}
}

// put stores the values of one slot for a trial. A trial already taken, a slot
// out of range or a slot given twice is a protocol error.
func (g *gather) put(trial uint64, slot int, x []float64) error {
	if trial < g.base {
		return fmt.Errorf("input for trial %d arrived after that trial was computed", trial)
	}
	if slot < 0 || slot >= g.slots {
		return fmt.Errorf("input slot %d out of range [0, %d)", slot, g.slots)
	}
	for trial-g.base >= uint64(len(g.ring)) {
		g.grow(2 * len(g.ring))
	}
	e := &g.ring[trial%uint64(len(g.ring))]
	if e.have == 0 {
		e.trial = trial
	}
	if e.vals[slot] != nil {
		return fmt.Errorf("input slot %d of trial %d arrived twice", slot, trial)
	}
	e.vals[slot] = x
	e.have++
	if trial+1 < g.newest[slot] {
		g.overtaken++
	} else {
		g.newest[slot] = trial + 1
	}
	return nil
}

// full returns the values of trial base, in slot order, if every slot has
// arrived.
func (g *gather) full() ([][]float64, bool) {
	e := &g.ring[g.base%uint64(len(g.ring))]
	if e.have != g.slots || e.trial != g.base {
		return nil, false
	}
	return e.vals, true
}

// take releases trial base and moves to the next.
func (g *gather) take() {
	e := &g.ring[g.base%uint64(len(g.ring))]
	for i := range e.vals {
		e.vals[i] = nil
	}
	e.have = 0
	g.base++
}
