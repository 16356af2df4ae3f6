package actors

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// The recurrent network in actors gives the reference engine's weights bit
// for bit: every rule, every dispatcher, one and two threads, lookahead 0
// and 3, two-sided perturbation, the spectral-radius control, outputs sent
// directly or fanned out.
func TestRecurrentActorsMatchReference(t *testing.T) {
	var cfgs []sim.Config
	for _, r := range []neuromod.Rule{neuromod.Fixed, neuromod.Dopamine1, neuromod.Dopamine2} {
		c := runcheck.ChaosConfig(t, r, uint64(r)+1)
		if r == neuromod.Fixed {
			c.Mod.Eta = 0.01
		}
		cfgs = append(cfgs, c)
	}
	two := runcheck.ChaosConfig(t, neuromod.Dopamine2, 9)
	two.TwoSided = true
	cfgs = append(cfgs, two)
	// Node perturbation: every hidden neuron draws its noise per time step
	// and sums its eligibility through time (synapse.Steps).
	for _, twoSided := range []bool{false, true} {
		np := runcheck.ChaosConfig(t, neuromod.Dopamine2, 7)
		np.NodePerturbation, np.TwoSided = true, twoSided
		cfgs = append(cfgs, np)
	}
	// The spectral-radius control, every 3 trials, exact (H products) and
	// estimated (2): the dopamine actor drives it by messages, the
	// reference engine by direct calls, with the same arithmetic.
	for _, steps := range []int{0, 2} {
		sp := runcheck.ChaosConfig(t, neuromod.Dopamine1, 5)
		sp.Spectral = sim.SpectralControl{Radius: 0.9, Every: 3, Steps: steps}
		cfgs = append(cfgs, sp)
	}
	// Covariates: every step reads three values (x, y, z), under weight
	// and node perturbation, with the spectral control (whose rows start
	// after the three input weights).
	mv := runcheck.MultivariateChaosConfig(t, neuromod.Dopamine2, 4)
	mvNode := runcheck.MultivariateChaosConfig(t, neuromod.Dopamine2, 6)
	mvNode.NodePerturbation = true
	mvSpectral := runcheck.MultivariateChaosConfig(t, neuromod.Dopamine1, 8)
	mvSpectral.Spectral = sim.SpectralControl{Radius: 0.9, Every: 3}
	cfgs = append(cfgs, mv, mvNode, mvSpectral)
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		for _, d := range allDispatchers {
			for i, c := range cfgs {
				for _, look := range []int{0, 3} {
					want, err := reference.Run(c)
					if err != nil {
						t.Fatal(err)
					}
					direct := look == 3 && i%2 == 0 // half the cases neuron to neuron, half through the fan-out
					got, err := Run(context.Background(), c, Options{Dispatcher: d, Lookahead: look, NoLookahead: look == 0, DirectFanout: direct})
					name := fmt.Sprintf("GOMAXPROCS=%d %v config %d lookahead %d direct %v", procs, d, i, look, direct)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					got.Messages = 0
					if !reflect.DeepEqual(got.Spectral, want.Spectral) {
						t.Errorf("%s: spectral controls %+v, reference %+v", name, got.Spectral, want.Spectral)
					}
					got.Spectral, want.Spectral = nil, nil // pointers: compared above
					if got.Digest != want.Digest || fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s: result\n%+v\nreference\n%+v", name, got, want)
					}
				}
			}
		}
		runtime.GOMAXPROCS(prev)
	}
}

// Messages per trial of an Elman run, sent neuron to neuron (DirectFanout):
// H windows, H·H·(W−1) recurrent outputs, H to the readout, 1 output, 1
// score, H+1 dopamine signals. Through the layer's fan-out, the windows go
// to it once and the recurrent outputs to it once each, H·(W−1), and it
// sends every neuron each of the W steps, H·W. Both give the same weights.
func TestRecurrentMessageCount(t *testing.T) {
	H, W := uint64(4), uint64(5)
	var digests []string
	for _, direct := range []bool{true, false} {
		c := runcheck.ChaosConfig(t, neuromod.Dopamine1, 3)
		res, err := Run(context.Background(), c, Options{NoLookahead: true, DirectFanout: direct})
		if err != nil {
			t.Fatal(err)
		}
		inputs := H + H*H*(W-1)
		if !direct {
			inputs = 1 + H*(W-1) + H*W
		}
		want := res.Trials*(inputs+H+1+1+H+1) + 1 // and the environment's Finish
		if res.Messages != want {
			t.Errorf("direct %v: %d messages in %d trials, want %d", direct, res.Messages, res.Trials, want)
		}
		if res.Forward != res.Trials*2 {
			t.Errorf("direct %v: %d forward evaluations of the network in %d trials", direct, res.Forward, res.Trials)
		}
		digests = append(digests, res.Digest)
	}
	if digests[0] != digests[1] {
		t.Errorf("direct and fanned-out runs differ: %v", digests)
	}
}

// blocksConfig is a recurrent run whose fan-out cuts the patterns into
// several blocks (sim.StepBlocks), the last one shorter, with
// two-sided perturbation.
func blocksConfig(t *testing.T) (sim.Config, int) {
	t.Helper()
	f, err := environment.NewForecast("mg", environment.MackeyGlass().Generate(1500),
		environment.ForecastConfig{Window: 3, Batch: 259, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	c := sim.Config{Arch: sim.Elman, Task: f, Hidden: 300, HiddenActivation: synapse.Tanh,
		OutputActivation: synapse.Identity, Sigma: 1e-3, TwoSided: true, Mod: neuromod.Defaults(neuromod.Dopamine2, 1e-3),
		MaxTrials: 4, Seed: 5}
	size := sim.BlockPatterns(259, 300, c.Tracks())
	blocks := (259 + size - 1) / size
	if blocks < 2 || 259%size == 0 {
		t.Fatalf("%d blocks of %d patterns: want several, the last shorter", blocks, size)
	}
	return c, blocks
}

// With several blocks of patterns in flight, the actors still give the
// reference engine's weights bit for bit, on every dispatcher, and the
// fan-out's messages are counted per block: H·(W−1) outputs to it and H·W
// steps from it for each block.
func TestRecurrentActorsInBlocks(t *testing.T) {
	c, blocks := blocksConfig(t)
	want, err := reference.Run(c)
	if err != nil {
		t.Fatal(err)
	}
	H, W, nb := uint64(300), uint64(3), uint64(blocks)
	for _, d := range []Dispatcher{Inline, Pool} {
		for _, direct := range []bool{false, true} {
			if direct && d == Inline {
				continue // H² messages a step: once is enough
			}
			got, err := Run(context.Background(), c, Options{Dispatcher: d, NoLookahead: true, DirectFanout: direct})
			if err != nil {
				t.Fatalf("%v direct %v: %v", d, direct, err)
			}
			if got.Digest != want.Digest || got.Loss != want.Loss {
				t.Errorf("%v direct %v: digest %s loss %v, reference %s %v", d, direct, got.Digest, got.Loss, want.Digest, want.Loss)
			}
			inputs := 1 + nb*H*(W-1) + nb*H*W
			if direct {
				inputs = H + H*H*(W-1)
			}
			if msgs := got.Trials*(inputs+H+1+1+H+1) + 1; got.Messages != msgs {
				t.Errorf("%v direct %v: %d messages in %d trials, want %d", d, direct, got.Messages, got.Trials, msgs)
			}
		}
	}
}

// The spectral-radius control runs after every third update (39 of a
// 120-trial run's 119), H products each, and changes the weights; what it
// cannot run with is refused by Options.Validate.
func TestRecurrentSpectralControl(t *testing.T) {
	plain := runcheck.ChaosConfig(t, neuromod.Dopamine1, 5)
	sp := plain
	sp.Spectral = sim.SpectralControl{Radius: 0.9, Every: 3}
	a, err := Run(context.Background(), plain, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), sp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Spectral != nil || b.Spectral == nil || b.Spectral.Controls != 39 || b.Spectral.Products != 39*sp.Hidden || b.Spectral.Skipped != 0 {
		t.Errorf("spectral stats: without %+v, with %+v", a.Spectral, b.Spectral)
	}
	if a.Digest == b.Digest {
		t.Error("the control changed no weight")
	}
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Mode: Async}, "sync mode in one process"},
		{Options{Placer: unusedPlacer{}}, "sync mode in one process"},
		{Options{Log: io.Discard, LogLevel: msglog.Messages}, "use level trials"},
	} {
		if err := c.opt.Validate(sp); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.opt, err, c.want)
		}
	}
	if err := (Options{Log: io.Discard, LogLevel: msglog.Trials}).Validate(sp); err != nil {
		t.Errorf("a log of trials: %v", err)
	}
}
