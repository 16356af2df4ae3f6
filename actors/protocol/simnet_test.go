package protocol

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// simnet is an in-memory network of the cores of one run, wired as the
// actor engine wires its actors, with no protoactor, no goroutine and no
// clock: a message waits in the queue of its (sender, receiver) pair,
// which keeps each pair's order (as protoactor does), and the network
// delivers the head of a queue drawn by a seeded generator, so that any
// interleaving of senders happens. Addresses: 0 the environment, 1 the
// dopamine actor, 2 + k neuron k in canonical order, then a recurrent
// layer's fan-out if it has one.
type simnet struct {
	env  *EnvCore
	dopa *DopamineCore
	// rec are an Elman network's hidden neurons (canonical indices 0 …
	// len(rec)−1), neurons the feed-forward ones after them.
	rec     []*RecurrentCore
	neurons []*NeuronCore
	fanout  *FanoutCore // the recurrent layer's fan-out (nil: direct)
	down    [][]int     // per neuron, the addresses of its receivers (a hidden neuron's last step: the readout)
	first   []int       // the first layer's addresses
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
// the environment's lookahead, whether a recurrent layer's outputs go
// through its fan-out and, for an async run, every core's knobs (the
// network fills in the seed, the canonical indices and the number of
// neurons).
type simKnobs struct {
	lookahead int
	fanout    bool
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
			if l == 0 {
				s.first = append(s.first, 2+k)
			}
			k++
			if cfg.Arch == sim.Elman && l == 0 {
				c := NewRecurrentCore(n, len(layer.Neurons), cfg.Window(), task.Patterns(), s.fanoutBlock(cfg, net, knobs))
				if knobs.async {
					na := knobs.neuron
					na.Seed, na.Index = cfg.Seed, uint64(k-1)
					if err := c.MakeAsync(na); err != nil {
						t.Fatal(err)
					}
				}
				s.rec = append(s.rec, c)
				continue
			}
			c := NewNeuronCore(n, int32(i), task.Patterns(), width, shared)
			if knobs.async {
				na := knobs.neuron
				na.Seed, na.Index, na.Drop = cfg.Seed, uint64(k-1), knobs.drop
				c.MakeAsync(na)
			}
			s.neurons = append(s.neurons, c)
		}
	}
	s.wire(net)
	if knobs.fanout && cfg.Arch == sim.Elman {
		H := len(s.rec)
		s.fanout = NewFanoutCore(H, cfg.Window(), task.Patterns(), cfg.Tracks(), s.fanoutBlock(cfg, net, knobs))
		s.first = []int{s.fanoutAddr()} // the windows go to the fan-out only
	}
	s.env.Wire(len(s.first))
	if knobs.async {
		s.env.MakeAsync(cfg.Seed, knobs.drop)
		da := knobs.dopamine
		da.Neurons = len(s.rec) + len(s.neurons)
		s.dopa.MakeAsync(da)
	}
	return s
}

// fanoutBlock is the recurrent cores' block of patterns through the
// fan-out, as the engine sizes it (0: direct).
func (s *simnet) fanoutBlock(cfg sim.Config, net *sim.Network, knobs simKnobs) int {
	if !knobs.fanout {
		return 0
	}
	return sim.BlockPatterns(cfg.RunTask().Patterns(), len(net.Layers[0].Neurons), cfg.Tracks())
}

// fanoutAddr is the fan-out's address, after the neurons'.
func (s *simnet) fanoutAddr() int { return 2 + len(s.rec) + len(s.neurons) }

// wire gives every neuron its receivers: the next layer's neurons, or the
// environment after the last layer.
func (s *simnet) wire(net *sim.Network) {
	k := 0
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
			if k >= len(s.rec) {
				s.neurons[k-len(s.rec)].Wire(len(down))
			}
			k++
		}
	}
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
			for k := range len(s.rec) + len(s.neurons) {
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
	case s.fanoutAddr():
		steps, err := s.fanout.Step(m)
		if err != nil {
			t.Fatalf("fan-out: %v", err)
		}
		for _, st := range steps {
			for k := range s.rec {
				s.post(to, 2+k, st)
			}
		}
	default:
		k := to - 2
		if k < len(s.rec) {
			s.fromRecurrent(t, k, m)
			return
		}
		outs, err := s.neurons[k-len(s.rec)].Step(m)
		if err != nil {
			t.Fatalf("neuron %d: %v", k, err)
		}
		for _, o := range outs {
			s.post(to, s.down[k][o.To], o.Msg)
		}
	}
}

// fromRecurrent steps hidden neuron k and sends what it computed as its
// shell does: the last step to the readout, any other to the fan-out or
// (direct) to every hidden neuron.
func (s *simnet) fromRecurrent(t *testing.T, k int, m any) {
	t.Helper()
	outs, err := s.rec[k].Step(m)
	if err != nil {
		t.Fatalf("hidden neuron %d: %v", k, err)
	}
	for _, o := range outs {
		var msg any = &Activation{Trial: o.Trial, Step: int32(o.Step), Slot: int32(k), Vals: o.H}
		to := make([]int, len(s.rec))
		for j := range to {
			to[j] = 2 + j
		}
		switch {
		case o.Last:
			to = s.down[k]
		case s.fanout != nil:
			msg = &BlockOutput{Trial: o.Trial, Step: int32(o.Step), Block: int32(o.Block), Slot: int32(k), Vals: o.H}
			to = []int{s.fanoutAddr()}
		}
		for _, addr := range to {
			s.post(2+k, addr, msg)
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
	for _, c := range s.rec {
		p = c.n.Params(p)
	}
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
	cfg := xorConfig(neuromod.Dopamine1, 3)
	cfg.MaxTrials = 150
	checkAsyncRuns(t, cfg, 16, simKnobs{lookahead: 2, async: true, neuron: NeuronAsync{UpdateEvery: 2},
		drop:     DropRates{Stimulus: 0.05, Activation: 0.05, Scored: 0.05},
		dopamine: DopamineAsync{Delay: delay, Jitter: jitter, Drop: 0.1}})
}

// checkAsyncRuns runs cfg with knobs under orders interleavings and checks
// that each run ends at its cap with the weights moved, that every trial
// presented reached the dopamine core, that each trial scored without loss
// brought one signal per neuron and no other did, and that every delivered
// signal was applied or skipped once (both happened).
func checkAsyncRuns(t *testing.T, cfg sim.Config, orders uint64, knobs simKnobs) {
	t.Helper()
	for order := range orders {
		s := newSimnet(t, cfg, knobs, order)
		before := s.digest()
		end := s.run(t)
		stats, err := s.dopa.asyncStats()
		if err != nil {
			t.Fatalf("order %d: %v", order, err)
		}
		var applied, skipped uint64
		for _, c := range s.rec {
			r := c.Report(0, 0)
			applied, skipped = applied+r.Applied, skipped+r.Skipped
		}
		for _, c := range s.neurons {
			r := c.Report(0, 0)
			applied, skipped = applied+r.Applied, skipped+r.Skipped
		}
		neurons := uint64(len(s.rec) + len(s.neurons))
		if s.dopa.next != s.env.presented || stats.Sent != neurons*s.signalled || applied+skipped != stats.Delivered || applied == 0 || skipped == 0 {
			t.Errorf("order %d: %d trials presented, %d scored, %d signalled; signals %+v, %d applied, %d skipped",
				order, s.env.presented, s.dopa.next, s.signalled, stats, applied, skipped)
		}
		if end.End != sim.Capped || s.digest() == before {
			t.Errorf("order %d: ended %v at trial %d, weights changed: %v", order, end.End, end.Trial, s.digest() != before)
		}
	}
}

// The recurrent protocol alone: an Elman network's hidden neurons (their
// outputs sent to one another directly, or through the layer's fan-out in
// blocks of patterns) and its readout reach the reference engine's weights
// bit for bit, whatever the interleaving, at every lookahead.
// elmanConfig is a small Elman run on two sines: 3 hidden neurons, windows
// of 4, 12 a trial.
func elmanConfig(t *testing.T, rule neuromod.Rule, trials uint64) sim.Config {
	t.Helper()
	series := make([]float64, 300)
	for i := range series {
		series[i] = math.Sin(0.3*float64(i)) + 0.5*math.Sin(0.71*float64(i))
	}
	f, err := environment.NewForecast("two sines", series, environment.ForecastConfig{Window: 4, Batch: 12, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	return sim.Config{Arch: sim.Elman, Task: f, Hidden: 3, HiddenActivation: synapse.Tanh, OutputActivation: synapse.Identity,
		Sigma: 1e-3, Mod: neuromod.Defaults(rule, 1e-3), MaxTrials: trials, Seed: uint64(rule) + 5}
}

func TestSimnetElmanIsTheReference(t *testing.T) {
	var cfgs []sim.Config
	for _, rule := range []neuromod.Rule{neuromod.Fixed, neuromod.Dopamine2} {
		cfg := elmanConfig(t, rule, 40)
		if rule == neuromod.Fixed {
			cfg.TwoSided = true
		}
		cfgs = append(cfgs, cfg)
	}
	node := elmanConfig(t, neuromod.Dopamine2, 40) // node perturbation: noise and eligibility per time step
	node.NodePerturbation = true
	cfgs = append(cfgs, node)
	for _, np := range []bool{false, true} { // covariates: x(τ) of three values
		mv := runcheck.MultivariateChaosConfig(t, neuromod.Dopamine2, 3)
		mv.NodePerturbation, mv.MaxTrials = np, 40
		cfgs = append(cfgs, mv)
	}
	for _, cfg := range cfgs {
		rule := cfg.Mod.Rule
		want, err := reference.Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, fanout := range []bool{false, true} {
			for order := uint64(0); order < 6; order++ {
				for _, look := range []int{0, 1, 3} {
					s := newSimnet(t, cfg, simKnobs{lookahead: look, fanout: fanout}, order)
					end := s.run(t)
					if got := s.digest(); got != want.Digest || end.Trial+1 != want.Trials {
						t.Fatalf("%v, fan-out %v, order %d, lookahead %d: %d trials, digest %s; the reference engine %d, %s",
							rule, fanout, order, look, end.Trial+1, got, want.Trials, want.Digest)
					}
				}
			}
		}
	}
}

// The recurrent network in async mode, with signals delayed in trials,
// jittered and dropped and an update rate of one in two, under many
// interleavings: every run ends, each trial scored brings one signal per
// neuron, every delivered signal is applied or skipped once, and the
// weights move.
func TestSimnetElmanAsyncConserves(t *testing.T) {
	delay, _ := ParseDelay("uniform:0..3")
	jitter, _ := ParseDelay("exp:1")
	checkAsyncRuns(t, elmanConfig(t, neuromod.Dopamine2, 60), 12, simKnobs{lookahead: 2, async: true, neuron: NeuronAsync{UpdateEvery: 2},
		dopamine: DopamineAsync{Delay: delay, Jitter: jitter, Drop: 0.1}})
}
