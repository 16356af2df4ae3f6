package protocol

import (
	"slices"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// After the signal of a due trial, a recurrent neuron answers the control's
// vectors with its row's dot product and computes the next trial only once
// it has scaled its row; messages out of turn are protocol errors.
func TestRecurrentCoreWaitsForTheSpectralControl(t *testing.T) {
	cfg := synapse.Config{FanIn: 1 + 1, Sigma: 0.1, Activation: synapse.Tanh}
	n, _ := synapse.NewNeuron(cfg, 1, []float64{0.5, 0.8, 0.05})
	c := NewRecurrentCore(n, 1, sim.Window{Steps: 1, Width: 1}, 1, 0) // H 1, W 1: every trial is one step
	c.ControlSpectrum(sim.SpectralControl{Radius: 0.5, Every: 1}, 0)
	if _, err := c.Product(&SpectralVector{Trial: 0, Q: []float64{1}}); err == nil {
		t.Error("a vector before any signal was answered")
	}
	if outs, err := c.Step(&Stimulus{Trial: 0, X: []float64{1}}); err != nil || len(outs) != 1 {
		t.Fatalf("trial 0: %v, %v", outs, err)
	}
	if outs, err := c.Step(&Stimulus{Trial: 1, X: []float64{2}}); err != nil || len(outs) != 0 {
		t.Fatalf("trial 1 before the signal: %v, %v", outs, err)
	}
	if outs, err := c.Step(&Dopamine{Trial: 0, Delta: 0.01, Eta: 0.1}); err != nil || len(outs) != 0 {
		t.Fatalf("trial 1 fired before the control: %v, %v", outs, err)
	}
	w := n.Params(nil)[recurrentFrom]
	row, err := c.Product(&SpectralVector{Trial: 0, Step: 0, Q: []float64{2}})
	if err != nil || row.Value != 2*w || row.Slot != 0 || row.Step != 0 {
		t.Fatalf("product %+v, %v; want %v", row, err, 2*w)
	}
	if _, err := c.Step(&SpectralScale{Trial: 1, Factor: 0.5}); err == nil || !strings.Contains(err.Error(), "out of turn") {
		t.Errorf("a rescaling for the wrong trial: %v", err)
	}
	outs, err := c.Step(&SpectralScale{Trial: 0, Factor: 0.5})
	if err != nil || len(outs) != 1 || outs[0].Trial != 1 {
		t.Fatalf("after the rescaling: %v, %v; want trial 1", outs, err)
	}
	if got := n.Params(nil)[recurrentFrom]; got != 0.5*w {
		t.Errorf("recurrent weight %v after scaling by 0.5, was %v", got, w)
	}
}

// The dopamine core drives the control by rows, as sim.ControlSpectrum does
// by calls: the same vectors, the same factor, the same weights, bit for
// bit; a row out of turn is a protocol error.
func TestDopamineCoreDrivesTheSpectralControl(t *testing.T) {
	f, err := environment.NewForecast("mg", environment.MackeyGlass().Generate(300), environment.ForecastConfig{Window: 4, Batch: 8, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	cfg := sim.Config{Arch: sim.Elman, Task: f, Hidden: 6, HiddenActivation: synapse.Tanh, OutputActivation: synapse.Identity,
		Sigma: 1e-3, Mod: neuromod.Defaults(neuromod.Dopamine1, 1e-3), MaxTrials: 10, Seed: 2, InitStd: 2,
		Spectral: sim.SpectralControl{Radius: 0.8, Every: 2, Steps: 4}}
	byCalls, _ := sim.Build(cfg)
	byRows, _ := sim.Build(cfg)
	var want sim.SpectralStats
	sim.ControlSpectrum(cfg, byCalls.Layers[0], 1, &want)

	d, err := NewDopamineCore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Row(&SpectralRow{Trial: 1}); err == nil {
		t.Error("a row before any control was taken")
	}
	step, _ := d.Step(&Scored{Trial: 0, Losses: neuromod.Losses{Clean: 1, Plus: 1.1}})
	if step.Spectral != nil {
		t.Fatal("a control after trial 0, with Every 2")
	}
	step, _ = d.Step(&Scored{Trial: 1, Losses: neuromod.Losses{Clean: 1, Plus: 0.9}})
	products := 0
	for step.Rescale == nil {
		v := step.Spectral
		if v == nil {
			t.Fatalf("after %d products: neither a vector nor the end", products)
		}
		products++
		for i, n := range byRows.Layers[0].Neurons {
			if step, err = d.Row(&SpectralRow{Trial: 1, Step: v.Step, Slot: i, Value: n.Dot(recurrentFrom, v.Q)}); err != nil {
				t.Fatal(err)
			}
			if i < cfg.Hidden-1 && (step.Spectral != nil || step.Rescale != nil) {
				t.Fatalf("the core went on after %d of %d rows", i+1, cfg.Hidden)
			}
		}
	}
	for _, n := range byRows.Layers[0].Neurons {
		n.Scale(recurrentFrom, cfg.Hidden, step.Rescale.Factor)
	}
	if products != 4 || !slices.Equal(byRows.Params(), byCalls.Params()) {
		t.Errorf("%d products; weights by rows equal by calls: %v", products, slices.Equal(byRows.Params(), byCalls.Params()))
	}
	if _, err := d.Row(&SpectralRow{Trial: 1, Step: 4}); err == nil {
		t.Error("a row after the control ended was taken")
	}
	e, _ := d.Ended(RunEnd{})
	if e.Spectral == nil || *e.Spectral != want {
		t.Errorf("stats %+v, by calls %+v", e.Spectral, want)
	}
}

// recurrentFrom is where a univariate Elman neuron's recurrent weights start.
var recurrentFrom = sim.Window{Steps: 1, Width: 1}.RecurrentFrom()
