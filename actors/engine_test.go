package actors

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

func TestMain(m *testing.M) {
	// protoactor's dead-letter log throttle keeps a timer goroutine alive
	// for its interval (1 s) after a dead letter; a cancelled run produces
	// dead letters by design. Every other goroutine must be gone.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}

// The actor engine's sync mode must give the reference engine's weights bit
// for bit, whatever the scheduling: on one and on two OS threads, for every
// rule, perturbation scheme and normalisation, for solved, capped and
// diverged runs, and whatever the environment's lookahead.
func TestActorsMatchReferenceBitForBit(t *testing.T) {
	type variant struct {
		name string
		cfg  sim.Config
		opt  Options
	}
	var vs []variant
	for _, r := range neuromod.Rules() {
		for seed := uint64(0); seed < 3; seed++ {
			vs = append(vs, variant{fmt.Sprintf("%v/seed%d", r, seed), runcheck.XORConfig(r, seed), Options{}})
		}
	}
	two := runcheck.XORConfig(neuromod.Dopamine2, 7)
	two.TwoSided, two.Norm, two.Hidden = true, synapse.InvSigma, 7
	two.Mod.Baseline, two.Mod.Order = 0.9, neuromod.Pre
	vs = append(vs, variant{"two-sided inv-sigma baseline pre hidden 7", two, Options{}})
	capped := runcheck.XORConfig(neuromod.Fixed, 1)
	capped.MaxTrials = 17
	vs = append(vs, variant{"capped at 17", capped, Options{}})
	tanh := runcheck.XORConfig(neuromod.Fixed, 2)
	tanh.HiddenActivation, tanh.InitStd, tanh.Mod.Eta = synapse.Tanh, 0.5, 0.5
	vs = append(vs, variant{"tanh hidden, init 0.5", tanh, Options{}})
	nanLoss := runcheck.XORConfig(neuromod.Fixed, 4)
	nanLoss.Task = nanAt{at: 25}
	vs = append(vs, variant{"loss NaN at trial 25", nanLoss, Options{}})
	infEta := runcheck.XORConfig(neuromod.Dopamine1, 4)
	infEta.Mod.Eta = math.MaxFloat64
	vs = append(vs, variant{"η overflows", infEta, Options{}})
	node := runcheck.XORConfig(neuromod.Dopamine1, 5)
	node.NodePerturbation, node.Hidden = true, 6
	vs = append(vs, variant{"node perturbation, hidden 6", node, Options{}})
	nodeTwo := runcheck.XORConfig(neuromod.Fixed, 6)
	nodeTwo.NodePerturbation, nodeTwo.TwoSided, nodeTwo.Mod.Eta = true, true, 1
	vs = append(vs, variant{"node perturbation, two-sided", nodeTwo, Options{Lookahead: 3}})
	vs = append(vs, variant{"no lookahead", runcheck.XORConfig(neuromod.Dopamine1, 11), Options{NoLookahead: true}})
	vs = append(vs, variant{"lookahead 5", runcheck.XORConfig(neuromod.Dopamine1, 11), Options{Lookahead: 5}})

	ends := map[sim.End]int{}
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		for _, d := range allDispatchers {
			for _, v := range vs {
				want, err := reference.Run(v.cfg)
				if err != nil {
					t.Fatalf("%s: reference: %v", v.name, err)
				}
				opt := v.opt
				opt.Dispatcher = d
				name := fmt.Sprintf("GOMAXPROCS=%d dispatcher=%v %s", procs, d, v.name)
				got, err := Run(context.Background(), v.cfg, opt)
				if err != nil {
					t.Fatalf("%s: actors: %v", name, err)
				}
				if got.Digest != want.Digest {
					t.Errorf("%s: weights_digest %s, reference %s", name, got.Digest, want.Digest)
				}
				got.Messages = 0
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: result\n%+v\nreference\n%+v", name, got, want)
				}
				ends[want.End]++
			}
		}
		runtime.GOMAXPROCS(prev)
	}
	for _, e := range []sim.End{sim.Solved, sim.Capped, sim.Diverged} {
		if ends[e] < 2*2*2 { // ≥ two variants end so, two GOMAXPROCS, two dispatchers
			t.Errorf("no variant ended %v: the comparison does not cover it", e)
		}
	}
}

// Messages per trial follow from the topology: H stimuli, H activations to
// the output neuron, 1 output, 1 score and H+1 dopamine signals (on the
// ending trial H+1 Finish messages and one to the environment), plus the
// stimuli presented ahead of the ending trial.
func TestMessageCount(t *testing.T) {
	for _, look := range []int{0, 1, 3} {
		cfg := runcheck.XORConfig(neuromod.Fixed, 5)
		cfg.MaxTrials = 40
		opt := Options{Lookahead: look, NoLookahead: look == 0}
		res, err := Run(context.Background(), cfg, opt)
		if err != nil {
			t.Fatal(err)
		}
		H := uint64(cfg.Hidden)
		ahead := uint64(look)
		if res.Trials+ahead > cfg.MaxTrials {
			ahead = cfg.MaxTrials - res.Trials
		}
		want := res.Trials*(H+H+1+1+H+1) + 1 + ahead*H
		if res.Messages != want {
			t.Errorf("lookahead %d: %d messages in %d trials, want %d", look, res.Messages, res.Trials, want)
		}
	}
}

// nanAt is XOR whose loss is NaN from one trial on.
type nanAt struct {
	environment.XOR
	at uint64
}

func (n nanAt) Loss(out []float64, t uint64) float64 {
	if t >= n.at {
		return math.NaN()
	}
	return n.XOR.Loss(out, t)
}

// panicky panics when asked for the inputs of one trial, to exercise
// supervision through a real run.
type panicky struct {
	environment.XOR
	at uint64
}

func (p panicky) Inputs(t uint64) []float64 {
	if t == p.at {
		panic("inputs unavailable")
	}
	return p.XOR.Inputs(t)
}

// misshapen presents, at one trial, inputs of the wrong size: the first
// hidden neuron's Forward panics on the shape.
type misshapen struct {
	environment.XOR
	at uint64
}

func (m misshapen) Inputs(t uint64) []float64 {
	if t == m.at {
		return []float64{1, 2, 3}
	}
	return m.XOR.Inputs(t)
}

// A panicking actor (the environment or a neuron) stops the run with an error
// naming it, under either dispatcher, instead of being restarted without its
// synapses.
func TestPanickingActorFailsTheRun(t *testing.T) {
	for _, d := range allDispatchers {
		cases := []struct {
			task        environment.Task
			actor, what string
		}{
			{panicky{at: 3}, "seed-1/env", "inputs unavailable"},
			// every hidden neuron gets the bad input; whichever runs first fails
			{misshapen{at: 4}, "seed-1/neuron/h/", "Forward input has 3 values"},
		}
		for _, c := range cases {
			cfg := runcheck.XORConfig(neuromod.Fixed, 1)
			cfg.Task = c.task
			_, err := Run(context.Background(), cfg, Options{Dispatcher: d})
			if err == nil || !strings.Contains(err.Error(), c.actor) || !strings.Contains(err.Error(), c.what) {
				t.Errorf("dispatcher %v: err = %v, want a failure of %s (%s)", d, err, c.actor, c.what)
			}
		}
	}
}

func TestCancelStopsTheRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := runcheck.XORConfig(neuromod.Fixed, 1)
	cfg.Mod.Eta = 0 // never learns: would run to MaxTrials
	cfg.MaxTrials = math.MaxInt64
	var trials atomic.Uint64
	cfg.Observe = func(s sim.TrialStats) {
		if trials.Add(1) == 50 {
			cancel()
		}
	}
	_, err := Run(ctx, cfg, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestInvalidConfig(t *testing.T) {
	cfg := runcheck.XORConfig(neuromod.Fixed, 1)
	cfg.Hidden = 0
	if _, err := Run(context.Background(), cfg, Options{}); err == nil {
		t.Fatal("hidden 0 accepted")
	}
	cfg = runcheck.XORConfig(neuromod.Fixed, 1)
	cfg.Method, cfg.Grad = sim.Adam, sim.DefaultGrad(sim.Adam)
	if _, err := Run(context.Background(), cfg, Options{}); err == nil || !strings.Contains(err.Error(), "reference engine only") {
		t.Fatalf("adam in the actor engine: err = %v", err)
	}
}

func TestObserveAndCurveMatchReference(t *testing.T) {
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 9)
	cfg.Curve = true
	var a, r []sim.TrialStats
	cfg.Observe = func(s sim.TrialStats) { a = append(a, s) } // called from one actor: no lock needed
	got, err := Run(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Observe = func(s sim.TrialStats) { r = append(r, s) }
	want, _ := reference.Run(cfg)
	if fmt.Sprint(a) != fmt.Sprint(r) || fmt.Sprint(got.Curve) != fmt.Sprint(want.Curve) {
		t.Fatal("observed trials or loss curve differ between engines")
	}
	if uint64(len(a)) != want.Trials || a[len(a)-1].End != want.End {
		t.Fatalf("observed %d trials ending %v; run had %d ending %v", len(a), a[len(a)-1].End, want.Trials, want.End)
	}
}

// One engine serves many runs, concurrently, each with its own actors; a
// second run with a seed that is still running is refused.
func TestEngineRunsConcurrently(t *testing.T) {
	e := NewEngine(Options{})
	defer func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	}()
	const n = 8
	digests := make([]string, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			res, err := e.Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, uint64(i)))
			digests[i] = res.Digest
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		want, _ := reference.Run(runcheck.XORConfig(neuromod.Dopamine1, uint64(i)))
		if digests[i] != want.Digest {
			t.Errorf("seed %d: concurrent run digest differs from the reference", i)
		}
	}

	block := make(chan struct{})
	started := make(chan struct{})
	cfg := runcheck.XORConfig(neuromod.Fixed, 99)
	cfg.MaxTrials = 10
	cfg.Observe = func(s sim.TrialStats) {
		if s.Trial == 0 {
			close(started)
			<-block
		}
	}
	first := make(chan error, 1)
	go func() {
		_, err := e.Run(context.Background(), cfg)
		first <- err
	}()
	<-started
	cfg.Observe = nil
	if _, err := e.Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second run with a busy seed: err = %v", err)
	}
	close(block)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}
