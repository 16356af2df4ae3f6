package runcheck

import (
	"testing"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// XORConfig is a small XOR run of rule: 4 hidden neurons, σ = 1e-3, the
// rule's default learning rate, at most 3 000 trials.
func XORConfig(rule neuromod.Rule, seed uint64) sim.Config {
	return sim.Config{Hidden: 4, Sigma: 1e-3, Mod: neuromod.Defaults(rule, 1e-3), MaxTrials: 3000, Seed: seed}
}

// ChaosConfig is a small forecasting run of rule: an Elman network of 4
// hidden neurons on 400 Mackey-Glass values in windows of 5, batches of 16,
// at most 120 trials.
func ChaosConfig(t testing.TB, rule neuromod.Rule, seed uint64) sim.Config {
	t.Helper()
	f, err := environment.NewForecast("mg", environment.MackeyGlass().Generate(400),
		environment.ForecastConfig{Window: 5, Batch: 16, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	mod := neuromod.Defaults(rule, 1e-3)
	return sim.Config{Arch: sim.Elman, Task: f, Hidden: 4, HiddenActivation: synapse.Tanh,
		OutputActivation: synapse.Identity, Sigma: 1e-3, Mod: mod, MaxTrials: 120, Seed: seed}
}

// MultivariateChaosConfig is ChaosConfig on Lorenz's x read with its y and
// z: windows of 5 steps of 3 values.
func MultivariateChaosConfig(t testing.TB, rule neuromod.Rule, seed uint64) sim.Config {
	t.Helper()
	lorenz := environment.Lorenz()
	coords, err := lorenz.GenerateCoordinates(400, 0, []string{"x", "y", "z"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := environment.NewMultivariateForecast("lorenz", coords[0], coords[1:], []string{"y", "z"},
		environment.ForecastConfig{Window: 5, Batch: 16, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	c := ChaosConfig(t, rule, seed)
	c.Task = f
	return c
}
