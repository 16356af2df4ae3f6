package protocol

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// simnet is an in-memory network of the cores of one MLP run, wired as
// the actor engine wires its actors, with no protoactor, no goroutine and
// no clock: a message waits in the queue of its (sender, receiver) pair,
// which keeps each pair's order (as protoactor does), and the network
// delivers the head of a queue drawn by a seeded generator, so that any
// interleaving of senders happens. Addresses: 0 the environment, 1 the
// dopamine actor, 2 + k neuron k in canonical order.
type simnet struct {
	env     *EnvCore
	dopa    *DopamineCore
	neurons []*NeuronCore
	down    [][]int // per neuron, the addresses of its receivers
	first   []int   // the first layer's addresses
	queues  map[[2]int][]any
	pairs   [][2]int // pairs with a message waiting, in no order that matters
	rng     *rand.Rand
	end     *RunEnd
	// presentedFirst is how many trials the environment presented at the
	// start; signalled the trials whose scores brought a signal (async).
	presentedFirst, signalled uint64
	// transcript, if not nil, gets a line per delivered message.
	transcript *strings.Builder
}

const (
	simEnv  = 0
	simDopa = 1
)

// xorConfig is the XOR run of the given rule and seed at the defaults.
func xorConfig(rule neuromod.Rule, seed uint64) sim.Config {
	return sim.Config{Hidden: 4, Sigma: 1e-3, Mod: neuromod.Defaults(rule, 1e-3), MaxTrials: 3000, Seed: seed}
}

// simKnobs are what the engine resolves from its Options for the cores:
// the environment's lookahead and, for an async run, every core's knobs
// (the network fills in the seed, the canonical indices and the number of
// neurons).
type simKnobs struct {
	lookahead int
	async     bool
	neuron    NeuronAsync
	drop      DropRates
	dopamine  DopamineAsync
}

// newSimnet wires the cores of a run of cfg as the engine wires its actors;
// order seeds the interleaving of senders.
func newSimnet(t *testing.T, cfg sim.Config, knobs simKnobs, order uint64) *simnet {
	t.Helper()
	net, err := sim.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	task := cfg.RunTask()
	dopa, err := NewDopamineCore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &simnet{env: NewEnvCore(cfg, task, knobs.lookahead), queues: map[[2]int][]any{}, rng: rand.New(rand.NewPCG(order, 1)), dopa: dopa}
	k := 0
	for l, layer := range net.Layers {
		width, shared := []int{task.InputWidth()}, true
		if l > 0 {
			width, shared = make([]int, len(net.Layers[l-1].Neurons)), false
			for j := range width {
				width[j] = 1
			}
		}
		for i, n := range layer.Neurons {
			c := NewNeuronCore(n, int32(i), task.Patterns(), width, shared)
			if knobs.async {
				na := knobs.neuron
				na.Seed, na.Index, na.Drop = cfg.Seed, uint64(k), knobs.drop
				c.MakeAsync(na)
			}
			s.neurons = append(s.neurons, c)
			if l == 0 {
				s.first = append(s.first, 2+k)
			}
			k++
		}
	}
	k = 0
	for l, layer := range net.Layers {
		for range layer.Neurons {
			down := []int{simEnv}
			if l+1 < len(net.Layers) {
				down = nil
				for j := range net.Layers[l+1].Neurons {
					down = append(down, 2+firstOf(net, l+1)+j)
				}
			}
			s.down = append(s.down, down)
			s.neurons[k].Wire(len(down))
			k++
		}
	}
	s.env.Wire(len(s.first))
	if knobs.async {
		s.env.MakeAsync(cfg.Seed, knobs.drop)
		da := knobs.dopamine
		da.Neurons = len(s.neurons)
		s.dopa.MakeAsync(da)
	}
	return s
}

// firstOf is the canonical index of layer l's first neuron.
func firstOf(net *sim.Network, l int) int {
	k := 0
	for _, layer := range net.Layers[:l] {
		k += len(layer.Neurons)
	}
	return k
}

func (s *simnet) post(from, to int, m any) {
	p := [2]int{from, to}
	if len(s.queues[p]) == 0 {
		s.pairs = append(s.pairs, p)
	}
	s.queues[p] = append(s.queues[p], m)
}

// run delivers messages until the dopamine core ends the run (and every
// message then in flight has been delivered or is a Finish's), and returns
// how it ended.
func (s *simnet) run(t *testing.T) RunEnd {
	t.Helper()
	outs, err := s.env.Step(&Start{})
	s.presentedFirst = s.env.presented
	s.fromEnv(t, outs, err)
	for len(s.pairs) > 0 {
		i := s.rng.IntN(len(s.pairs))
		p := s.pairs[i]
		q := s.queues[p]
		m := q[0]
		if s.queues[p] = q[1:]; len(q) == 1 {
			s.pairs[i] = s.pairs[len(s.pairs)-1]
			s.pairs = s.pairs[:len(s.pairs)-1]
		}
		if s.transcript != nil {
			fmt.Fprintf(s.transcript, "%s -> %s: %s\n", s.name(p[0]), s.name(p[1]), describe(m))
		}
		s.deliver(t, p[1], m)
	}
	if s.end == nil {
		t.Fatal("the network went quiet before the run ended")
	}
	return *s.end
}

func (s *simnet) deliver(t *testing.T, to int, m any) {
	t.Helper()
	switch to {
	case simEnv:
		outs, err := s.env.Step(m)
		s.fromEnv(t, outs, err)
	case simDopa:
		sc := m.(*Scored)
		if !sc.Lost && sc.End == sim.Running && !s.dopa.Halted() && s.end == nil {
			s.signalled++
		}
		step, err := s.dopa.Step(sc)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case step.Broadcast != nil:
			for k := range s.neurons {
				s.post(simDopa, 2+k, step.Broadcast)
			}
		case step.Halt != nil:
			s.post(simDopa, simEnv, step.Halt)
		case step.Finish != nil:
			s.end = step.Finish
		}
		for _, d := range step.Signals {
			s.post(simDopa, 2+d.Neuron, &Dopamine{Trial: d.Trial, Delta: d.Sig.Delta, Eta: d.Sig.Eta})
		}
	default:
		k := to - 2
		outs, err := s.neurons[k].Step(m)
		if err != nil {
			t.Fatalf("neuron %d: %v", k, err)
		}
		for _, o := range outs {
			s.post(to, s.down[k][o.To], o.Msg)
		}
	}
}

func (s *simnet) fromEnv(t *testing.T, outs []EnvOut, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.ToFirst == ToDopamine {
			s.post(simEnv, simDopa, o.Msg)
		} else {
			s.post(simEnv, s.first[o.ToFirst], o.Msg)
		}
	}
}

// digest is the digest of every neuron's parameters, in canonical order.
func (s *simnet) digest() string {
	var p []float64
	for _, c := range s.neurons {
		p = c.n.Params(p)
	}
	return synapse.Digest(p)
}

// The sync protocol alone, without protoactor: whatever the order in which
// senders' messages interleave, the cores reach the reference engine's
// weights, bit for bit, at every lookahead.
func TestSimnetSyncIsTheReference(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		cfg := xorConfig(neuromod.Dopamine1, seed)
		cfg.MaxTrials = 60
		want, err := reference.Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for order := uint64(0); order < 8; order++ {
			// Lookahead 8 outgrows the gathers' first ring of trials.
			for _, look := range []int{0, 1, 3, 8} {
				s := newSimnet(t, cfg, simKnobs{lookahead: look}, order)
				end := s.run(t)
				if got := s.digest(); got != want.Digest || end.Trial+1 != want.Trials {
					t.Fatalf("seed %d, order %d, lookahead %d: %d trials, digest %s; the reference engine %d, %s",
						seed, order, look, end.Trial+1, got, want.Trials, want.Digest)
				}
				if s.presentedFirst != uint64(look)+1 {
					t.Fatalf("lookahead %d: %d trials presented at the start", look, s.presentedFirst)
				}
			}
		}
	}
}

// The async protocol alone, with signals delayed in trials, jittered and
// dropped, stimuli, activations and scores dropped and an update rate of
// one in two, under many interleavings (wall-clock delays and bounded
// mailboxes are the shells', not in it): every run ends, every trial
// presented reaches the dopamine core (a lost one as a notice), each trial
// scored without loss brings one signal per neuron and no other does, every
// delivered signal is applied or skipped once, and learning still happens.
func TestSimnetAsyncDrainsAndConserves(t *testing.T) {
	delay, _ := ParseDelay("uniform:0..3")
	jitter, _ := ParseDelay("exp:1")
	for order := uint64(0); order < 16; order++ {
		cfg := xorConfig(neuromod.Dopamine1, 3)
		cfg.MaxTrials = 150
		knobs := simKnobs{lookahead: 2, async: true, neuron: NeuronAsync{UpdateEvery: 2},
			drop:     DropRates{Stimulus: 0.05, Activation: 0.05, Scored: 0.05},
			dopamine: DopamineAsync{Delay: delay, Jitter: jitter, Drop: 0.1}}
		s := newSimnet(t, cfg, knobs, order)
		before := s.digest()
		end := s.run(t)
		stats, err := s.dopa.AsyncStats()
		if err != nil {
			t.Fatalf("order %d: %v", order, err)
		}
		var applied, skipped uint64
		for _, c := range s.neurons {
			applied, skipped = applied+c.applied, skipped+c.skipped
		}
		neurons := uint64(len(s.neurons))
		if s.dopa.next != s.env.presented || stats.Sent != neurons*s.signalled || applied+skipped != stats.Delivered || applied == 0 || skipped == 0 {
			t.Errorf("order %d: %d trials presented, %d scored, %d signalled; signals %+v, %d applied, %d skipped",
				order, s.env.presented, s.dopa.next, s.signalled, stats, applied, skipped)
		}
		if end.End != sim.Capped || s.digest() == before {
			t.Errorf("order %d: ended %v at trial %d, weights changed: %v", order, end.End, end.Trial, s.digest() != before)
		}
	}
}
