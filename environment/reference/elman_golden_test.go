package reference

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// elmanGoldenCase is a recurrent run whose every loss and final weights are
// pinned: batch sizes that are and are not multiples of the vectorised
// kernel's blocks, one and several blocks of patterns (StepBlocks), one-
// and two-sided perturbation.
type elmanGoldenCase struct {
	hidden, window, batch int
	twoSided              bool
	trials                uint64
}

func (g elmanGoldenCase) config(t *testing.T) sim.Config {
	t.Helper()
	f, err := environment.NewForecast("mackey-glass", environment.MackeyGlass().Generate(1500),
		environment.ForecastConfig{Window: g.window, Batch: g.batch, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	mod := neuromod.Defaults(neuromod.Dopamine2, 1e-3)
	mod.Eta = 0.001
	return sim.Config{Arch: sim.Elman, Task: f, Hidden: g.hidden, HiddenActivation: synapse.Tanh,
		OutputActivation: synapse.Identity, Sigma: 1e-3, TwoSided: g.twoSided, Mod: mod, Seed: 3,
		MaxTrials: g.trials, Curve: true}
}

// TestGoldenElmanRuns pins the recurrent network's arithmetic the way
// TestGoldenLossCurve pins the MLP's: the clean loss of every trial and the
// weights digest, byte for byte (amd64 only, as there). Any change to the
// order or the rounding of a neuron's sums shows here. Regenerate with:
// go test ./environment/reference -run GoldenElman -update
func TestGoldenElmanRuns(t *testing.T) {
	if runtime.GOARCH != "amd64" && !*update {
		t.Skip("golden values are for amd64")
	}
	var b bytes.Buffer
	for _, g := range []elmanGoldenCase{
		{hidden: 16, window: 8, batch: 128, trials: 30},
		{hidden: 37, window: 5, batch: 61, twoSided: true, trials: 20},
		{hidden: 70, window: 3, batch: 259, trials: 10},
		{hidden: 300, window: 3, batch: 259, twoSided: true, trials: 6}, // several blocks of StepBlocks
	} {
		r := mustRun(t, g.config(t))
		fmt.Fprintf(&b, "# hidden %d window %d batch %d two-sided %v: %d trials, digest %s\n", g.hidden, g.window, g.batch, g.twoSided, r.Trials, r.Digest)
		for i, l := range r.Curve {
			fmt.Fprintf(&b, "%d %s\n", i, formatExact(l))
		}
	}
	checkGolden(t, filepath.Join("testdata", "elman-curves.golden"), b.Bytes(), "the recurrent runs")
}
