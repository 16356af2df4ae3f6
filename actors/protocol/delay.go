package protocol

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// This file holds the delivery model of the asynchronous mode (issue 6):
// seeded delay distributions, in whole trials or in wall-clock time, the
// delay line that holds dopamine signals until the trial they are due, and
// the dropper. Nothing in sync mode uses it.

// DelayKind is the family of a Delay distribution.
type DelayKind uint8

const (
	// Const is a fixed delay of A.
	Const DelayKind = iota
	// Uniform draws uniformly from A … B: whole trials, or whole
	// nanoseconds of wall time.
	Uniform
	// Exp draws with mean A: in trials from the geometric distribution on
	// 0, 1, 2, … (the discrete exponential: memoryless, like a Poisson
	// process); in wall time from the exponential distribution.
	Exp
)

// Delay is a distribution of delays, in whole trials or (Wall) in wall-clock
// time. The zero value is no delay (Const 0 trials).
type Delay struct {
	Kind DelayKind
	// Wall makes A and B nanoseconds of wall-clock time instead of trials.
	Wall bool
	// A is the constant (Const), the lower bound (Uniform) or the mean
	// (Exp); B is Uniform's upper bound. Trials, or nanoseconds if Wall.
	A, B float64
}

// maxDelay bounds a delay in trials and maxWall one in wall time: a delay
// longer than any run would hold every signal until the end, and a huge one
// is a typo.
const (
	maxDelay = 1 << 40
	maxWall  = float64(time.Hour)
)

// ParseDelay reads a delay: "N" or "const:N", "uniform:A..B" (A ≤ B) or
// "exp:M" (mean M > 0). A bare number counts trials (a whole number, except
// for exp's mean); a number with a unit ("200us", "1.5ms", "2s", as
// time.ParseDuration reads them) is wall-clock time, up to an hour. Both
// bounds of uniform use the same unit. A zero delay, in either unit, is the
// zero Delay. The forms avoid commas so that a sweep can list them.
func ParseDelay(s string) (Delay, error) {
	name, arg, found := strings.Cut(s, ":")
	if !found {
		name, arg = "const", s
	}
	// wall reads v as a duration if it ends with a unit letter.
	wall := func(v string) (float64, bool, error) {
		if r, _ := utf8.DecodeLastRuneInString(v); !unicode.IsLetter(r) {
			return 0, false, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || float64(d) > maxWall {
			return 0, false, fmt.Errorf("delay %q: %q is neither a number of trials nor a duration from 0 to 1h (like 200us or 1.5ms)", s, v)
		}
		return float64(d), true, nil
	}
	whole := func(v string) (float64, bool, error) {
		v = strings.TrimSpace(v)
		n, err := strconv.ParseUint(v, 10, 64)
		if err == nil && n <= maxDelay {
			return float64(n), false, nil
		}
		if d, isWall, werr := wall(v); isWall || werr != nil {
			return d, isWall, werr
		}
		return 0, false, fmt.Errorf("delay %q: %q is not a whole number of trials from 0 to %d (or a duration like 200us)", s, v, uint64(maxDelay))
	}
	switch name {
	case "const":
		a, w, err := whole(arg)
		if err != nil || a == 0 {
			return Delay{}, err
		}
		return Delay{Kind: Const, Wall: w, A: a}, nil
	case "uniform":
		lo, hi, ok := strings.Cut(arg, "..")
		if !ok {
			return Delay{}, fmt.Errorf("delay %q: want uniform:A..B", s)
		}
		a, wa, err := whole(lo)
		if err != nil {
			return Delay{}, err
		}
		b, wb, err := whole(hi)
		if err != nil {
			return Delay{}, err
		}
		if wa != wb && !(a == 0 && !wa) {
			return Delay{}, fmt.Errorf("delay %q: the bounds mix trials and wall time", s)
		}
		if a > b {
			return Delay{}, fmt.Errorf("delay %q: the lower bound is above the upper", s)
		}
		return Delay{Kind: Uniform, Wall: wb, A: a, B: b}, nil
	case "exp":
		v := strings.TrimSpace(arg)
		if m, w, err := wall(v); err != nil || w {
			if err == nil && m == 0 {
				err = fmt.Errorf("delay %q: the mean must be above 0", s)
			}
			return Delay{Kind: Exp, Wall: true, A: m}, err
		}
		m, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(m) || m <= 0 || m > maxDelay {
			return Delay{}, fmt.Errorf("delay %q: the mean must be a number of trials above 0 and at most %d (or a duration like 200us)", s, uint64(maxDelay))
		}
		return Delay{Kind: Exp, A: m}, nil
	}
	return Delay{}, fmt.Errorf("delay %q: unknown distribution %q (want const, uniform or exp)", s, name)
}

// Validate checks a Delay built without ParseDelay.
func (d Delay) Validate() error {
	top := float64(maxDelay)
	if d.Wall {
		top = maxWall
	}
	ok := d.A >= 0 && d.A <= top && d.A == math.Trunc(d.A)
	switch d.Kind {
	case Const:
	case Uniform:
		ok = ok && d.B >= d.A && d.B <= top && d.B == math.Trunc(d.B)
	case Exp:
		ok = d.A > 0 && d.A <= top
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
	v := func(x float64) string {
		if d.Wall {
			return time.Duration(x).String()
		}
		return strconv.FormatUint(uint64(x), 10)
	}
	switch d.Kind {
	case Uniform:
		return "uniform:" + v(d.A) + ".." + v(d.B)
	case Exp:
		if d.Wall {
			return "exp:" + v(d.A)
		}
		return "exp:" + strconv.FormatFloat(d.A, 'g', -1, 64)
	}
	return v(d.A)
}

// Mean returns the expected delay, in trials or (Wall) nanoseconds.
func (d Delay) Mean() float64 {
	if d.Kind == Uniform {
		return (d.A + d.B) / 2
	}
	return d.A
}

// Draw returns one delay, in trials or (Wall) nanoseconds, drawn from r
// (Const draws nothing).
func (d Delay) Draw(r *rand.Rand) uint64 {
	switch d.Kind {
	case Uniform:
		return uint64(d.A) + r.Uint64N(uint64(d.B-d.A)+1)
	case Exp:
		u := 1 - r.Float64() // uniform on (0, 1]
		var k float64
		if d.Wall {
			k = math.Round(-math.Log(u) * d.A)
		} else {
			// Geometric with success probability p = 1/(1+A) has mean
			// (1−p)/p = A: k = ⌊ln U / ln(1−p)⌋.
			k = math.Floor(math.Log(u) / math.Log1p(-1/(1+d.A)))
		}
		if k >= maxDelay*64 {
			return maxDelay * 64
		}
		return uint64(k)
	}
	return uint64(d.A)
}

// split returns a draw of d as (trials, wall time): one of them is zero.
func (d Delay) split(r *rand.Rand) (uint64, time.Duration) {
	k := d.Draw(r)
	if d.Wall {
		return 0, time.Duration(k)
	}
	return k, 0
}

// Delayed is a dopamine signal on its way to one neuron: the signal of trial
// for the neuron with canonical index neuron, due once the environment has
// scored trial due, then (wall > 0) held for that much wall-clock time.
type Delayed struct {
	due, Trial uint64
	Wall       time.Duration
	Neuron     int
	Sig        neuromod.Signal
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
func (l *delayLine) add(d Delayed) {
	heap.Push(&l.pending, d)
	l.added++
}

// release passes every signal due once trial scored has been scored to emit,
// in order.
func (l *delayLine) release(scored uint64, emit func(Delayed)) {
	for len(l.pending) > 0 && l.pending[0].due <= scored {
		d := heap.Pop(&l.pending).(Delayed)
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
type delayHeap []Delayed

func (h delayHeap) Len() int { return len(h) }
func (h delayHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.due != b.due {
		return a.due < b.due
	}
	if a.Trial != b.Trial {
		return a.Trial < b.Trial
	}
	return a.Neuron < b.Neuron
}
func (h delayHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x any)   { *h = append(*h, x.(Delayed)) }
func (h *delayHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	*h = old[:len(old)-1]
	return d
}

// The delivery streams of an async run (synapse.StreamDelivery, one
// sub-stream per index), one per actor and purpose, so that a seed gives the
// same draws whatever the scheduling and in any process. A neuron's index is
// its base plus its canonical index k.
const (
	deliveryDopamine   uint64 = 0       // the dopamine actor's delays, jitter and drops
	deliveryUpdateRate uint64 = 1       // + k: neuron k's update rate (--update-every A..B)
	deliveryNeuronDrop uint64 = 1 << 32 // + k: neuron k's --drop decisions
	deliveryEnvDrop    uint64 = 1 << 33 // the environment's --drop decisions
	deliveryWallDelay  uint64 = 1 << 34 // + k: neuron k's wall-clock activation delays
)

// deliveryRand returns the generator of the run's delivery stream index.
func deliveryRand(seed, index uint64) *rand.Rand {
	return rand.New(synapse.NewSource(synapse.Key(seed, synapse.StreamDelivery, index)))
}

// dropper decides, for one sending actor, which of its messages are lost on
// the way (--drop: stimuli, activations and scores; dopamine signals are
// dropped by their delay lines): each with the probability of its kind,
// drawn in send order from the actor's own delivery stream. The zero value
// drops nothing.
type dropper struct {
	p   [NumKinds]float64 // by kind
	rng *rand.Rand
}

// DropRates are the probabilities, in [0, 1], that a message of each kind
// is lost on the way (async --drop; AsyncOptions.DropStimulus …). The zero
// value loses nothing.
type DropRates struct {
	Stimulus, Activation, Scored float64
}

// newDropper returns the dropper of the sender with delivery stream index.
func newDropper(r DropRates, seed, index uint64) dropper {
	return dropper{p: [NumKinds]float64{KindStimulus: r.Stimulus, KindActivation: r.Activation, KindScored: r.Scored},
		rng: deliveryRand(seed, index)}
}

// drop reports whether the next message of kind k is lost.
func (d *dropper) drop(k Kind) bool {
	return d.rng != nil && d.p[k] > 0 && d.rng.Float64() < d.p[k]
}
