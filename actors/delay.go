package actors

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/dopasim/dopasim/neuromod"
)

// This file holds the delivery model of the asynchronous mode (issue 6),
// ahead of the mode itself: seeded delay distributions in whole trials and
// the delay line that holds dopamine signals until they are due. Nothing in
// sync mode uses it.

// DelayKind is the family of a Delay distribution.
type DelayKind uint8

const (
	// Const is a fixed delay of A trials.
	Const DelayKind = iota
	// Uniform draws a whole number of trials uniformly from A … B.
	Uniform
	// Exp draws from the geometric distribution on 0, 1, 2, … with mean A
	// (the discrete exponential: memoryless, like a Poisson process).
	Exp
)

// Delay is a distribution of delays in whole trials. The zero value is no
// delay (Const 0).
type Delay struct {
	Kind DelayKind
	// A is the constant (Const), the lower bound (Uniform) or the mean
	// (Exp), in trials; B is Uniform's upper bound.
	A, B float64
}

// maxDelay bounds a delay's parameters: a delay longer than any run would
// hold every signal until the end, and a huge one is a typo.
const maxDelay = 1 << 40

// ParseDelay reads a delay: "N" or "const:N" (N trials, a whole number),
// "uniform:A..B" (whole numbers, A ≤ B) or "exp:M" (mean M > 0, not
// necessarily whole). The forms avoid commas so that a sweep can list them.
func ParseDelay(s string) (Delay, error) {
	name, arg, found := strings.Cut(s, ":")
	if !found {
		name, arg = "const", s
	}
	whole := func(v string) (float64, error) {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil || n > maxDelay {
			return 0, fmt.Errorf("delay %q: %q is not a whole number of trials from 0 to %d", s, v, uint64(maxDelay))
		}
		return float64(n), nil
	}
	switch name {
	case "const":
		a, err := whole(arg)
		return Delay{Kind: Const, A: a}, err
	case "uniform":
		lo, hi, ok := strings.Cut(arg, "..")
		if !ok {
			return Delay{}, fmt.Errorf("delay %q: want uniform:A..B", s)
		}
		a, err := whole(lo)
		if err != nil {
			return Delay{}, err
		}
		b, err := whole(hi)
		if err != nil {
			return Delay{}, err
		}
		if a > b {
			return Delay{}, fmt.Errorf("delay %q: the lower bound is above the upper", s)
		}
		return Delay{Kind: Uniform, A: a, B: b}, nil
	case "exp":
		m, err := strconv.ParseFloat(strings.TrimSpace(arg), 64)
		if err != nil || math.IsNaN(m) || m <= 0 || m > maxDelay {
			return Delay{}, fmt.Errorf("delay %q: the mean must be a number of trials above 0 and at most %d", s, uint64(maxDelay))
		}
		return Delay{Kind: Exp, A: m}, nil
	}
	return Delay{}, fmt.Errorf("delay %q: unknown distribution %q (want const, uniform or exp)", s, name)
}

// validate checks a Delay built without ParseDelay.
func (d Delay) validate() error {
	ok := d.A >= 0 && d.A <= maxDelay && d.A == math.Trunc(d.A)
	switch d.Kind {
	case Const:
	case Uniform:
		ok = ok && d.B >= d.A && d.B <= maxDelay && d.B == math.Trunc(d.B)
	case Exp:
		ok = d.A > 0 && d.A <= maxDelay
	default:
		ok = false
	}
	if !ok {
		return fmt.Errorf("invalid delay %+v", d)
	}
	return nil
}

// String returns the delay in the form ParseDelay reads.
func (d Delay) String() string {
	switch d.Kind {
	case Uniform:
		return fmt.Sprintf("uniform:%d..%d", uint64(d.A), uint64(d.B))
	case Exp:
		return "exp:" + strconv.FormatFloat(d.A, 'g', -1, 64)
	}
	return strconv.FormatUint(uint64(d.A), 10)
}

// Mean returns the expected delay in trials.
func (d Delay) Mean() float64 {
	if d.Kind == Uniform {
		return (d.A + d.B) / 2
	}
	return d.A
}

// Draw returns one delay in trials, drawn from r (Const draws nothing).
func (d Delay) Draw(r *rand.Rand) uint64 {
	switch d.Kind {
	case Uniform:
		return uint64(d.A) + r.Uint64N(uint64(d.B-d.A)+1)
	case Exp:
		// Geometric with success probability p = 1/(1+A) has mean
		// (1−p)/p = A: k = ⌊ln U / ln(1−p)⌋ with U uniform on (0, 1].
		u := 1 - r.Float64()
		k := math.Floor(math.Log(u) / math.Log1p(-1/(1+d.A)))
		if k >= maxDelay*64 {
			return maxDelay * 64
		}
		return uint64(k)
	}
	return uint64(d.A)
}

// delayed is a dopamine signal on its way to one neuron: the signal of trial
// for the neuron with canonical index neuron, due once the environment has
// scored trial due.
type delayed struct {
	due, trial uint64
	neuron     int
	sig        neuromod.Signal
}

// delayLine holds dopamine signals until they are due and counts them: every
// signal sent is, at any time, dropped (lost on the way), delivered, missed
// (still held when the run ended) or pending. Signals due at the same trial
// leave in the order of their trial, then neuron. Not safe for concurrent
// use.
type delayLine struct {
	pending                           delayHeap
	added, dropped, delivered, missed uint64
}

// drop counts a signal sent and lost.
func (l *delayLine) drop() {
	l.added++
	l.dropped++
}

// add holds a signal.
func (l *delayLine) add(d delayed) {
	heap.Push(&l.pending, d)
	l.added++
}

// release passes every signal due once trial scored has been scored to emit,
// in order.
func (l *delayLine) release(scored uint64, emit func(delayed)) {
	for len(l.pending) > 0 && l.pending[0].due <= scored {
		d := heap.Pop(&l.pending).(delayed)
		l.delivered++
		emit(d)
	}
}

// end drops every signal still held (the run ended before they were due)
// and returns how many.
func (l *delayLine) end() uint64 {
	n := uint64(len(l.pending))
	l.missed += n
	l.pending = l.pending[:0]
	return n
}

// check verifies conservation: sent = dropped + delivered + missed +
// pending.
func (l *delayLine) check() error {
	if l.added != l.dropped+l.delivered+l.missed+uint64(len(l.pending)) {
		return fmt.Errorf("dopamine signals: %d sent, %d dropped, %d delivered, %d missed, %d pending",
			l.added, l.dropped, l.delivered, l.missed, len(l.pending))
	}
	return nil
}

// delayHeap orders signals by (due, trial, neuron).
type delayHeap []delayed

func (h delayHeap) Len() int { return len(h) }
func (h delayHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.due != b.due {
		return a.due < b.due
	}
	if a.trial != b.trial {
		return a.trial < b.trial
	}
	return a.neuron < b.neuron
}
func (h delayHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x any)   { *h = append(*h, x.(delayed)) }
func (h *delayHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	*h = old[:len(old)-1]
	return d
}

// Message kinds a sender may drop in async mode (--drop), as indices of
// kindCounts.
const (
	dropStimulus   = 0
	dropActivation = 1
	dropScored     = 2
)

// dropper decides, for one sending actor, which of its messages are lost on
// the way: each with the probability of its kind, drawn in send order from
// the actor's own delivery stream. The zero value drops nothing.
type dropper struct {
	p   [3]float64 // by kind: stimulus, activation, scored
	rng *rand.Rand
}

// drop reports whether the next message of kind is lost.
func (d *dropper) drop(kind int) bool {
	return d.rng != nil && d.p[kind] > 0 && d.rng.Float64() < d.p[kind]
}
