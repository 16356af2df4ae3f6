package sim

import (
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

func elmanConfig(t *testing.T, hidden int, sc SpectralControl) Config {
	t.Helper()
	f, err := environment.NewForecast("mg", environment.MackeyGlass().Generate(400),
		environment.ForecastConfig{Window: 5, Batch: 16, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	return Config{Arch: Elman, Task: f, Hidden: hidden, HiddenActivation: synapse.Tanh, OutputActivation: synapse.Identity,
		Sigma: 1e-3, Mod: neuromod.Defaults(neuromod.Dopamine1, 1e-3), MaxTrials: 10, Seed: 4, InitStd: 3, Spectral: sc}
}

// recurrentMatrix gathers W from the hidden neurons' rows (a test may hold
// it; nothing in a run does).
func recurrentMatrix(layer Layer) *mat.Dense {
	H, from := len(layer.Neurons), Window{Steps: 1, Width: 1}.RecurrentFrom()
	w := mat.NewDense(H, H, nil)
	for i, n := range layer.Neurons {
		w.SetRow(i, n.Params(nil)[from:from+H])
	}
	return w
}

// After a control with H products, ρ(W) is the target, and only the
// recurrent weights changed: the input weights and biases keep their bits.
func TestControlSpectrumSetsTheRadius(t *testing.T) {
	for _, H := range []int{4, 12} {
		c := elmanConfig(t, H, SpectralControl{Radius: 0.95, Every: 1, Steps: H})
		net, err := Build(c)
		if err != nil {
			t.Fatal(err)
		}
		layer := net.Layers[0]
		before := radiusOf(t, recurrentMatrix(layer))
		var old [][]float64
		for _, n := range layer.Neurons {
			old = append(old, n.Params(nil))
		}
		var st SpectralStats
		ControlSpectrum(c, layer, 0, &st)
		if got := radiusOf(t, recurrentMatrix(layer)); math.Abs(got-0.95) > 1e-9 {
			t.Errorf("H=%d: radius %v before, %v after, want 0.95", H, before, got)
		}
		if st.Controls != 1 || st.Products != H || math.Abs(st.Last-before) > 1e-9*before {
			t.Errorf("H=%d: stats %+v, ρ before %v", H, st, before)
		}
		for i, n := range layer.Neurons {
			p := n.Params(nil)
			if p[0] != old[i][0] || p[len(p)-1] != old[i][len(p)-1] {
				t.Errorf("H=%d neuron %d: input weight or bias changed", H, i)
			}
		}
	}
}

// The same seed and trial give the same control, bit for bit; the period
// says which trials it follows.
func TestControlSpectrumRepeats(t *testing.T) {
	c := elmanConfig(t, 8, SpectralControl{Radius: 1, Every: 3})
	params := func() []float64 {
		net, err := Build(c)
		if err != nil {
			t.Fatal(err)
		}
		var st SpectralStats
		ControlSpectrum(c, net.Layers[0], 2, &st)
		return net.Params()
	}
	if a, b := params(), params(); !slices.Equal(a, b) {
		t.Error("two controls of the same network and trial differ")
	}
	var due []uint64
	for tr := range uint64(10) {
		if c.Spectral.Due(tr) {
			due = append(due, tr)
		}
	}
	if !slices.Equal(due, []uint64{2, 5, 8}) {
		t.Errorf("due after trials %v, want 2, 5, 8", due)
	}
	if (SpectralControl{}).Due(0) {
		t.Error("the zero control is due")
	}
}

func TestSpectralControlValidate(t *testing.T) {
	for _, c := range []struct {
		sc   SpectralControl
		mlp  bool
		want string
	}{
		{SpectralControl{Radius: -1, Every: 1}, false, "finite number > 0"},
		{SpectralControl{Radius: math.Inf(1), Every: 1}, false, "finite number > 0"},
		{SpectralControl{Radius: 1}, false, "period of at least 1"},
		{SpectralControl{Radius: 1, Every: 1, Steps: 9}, false, "from 1 to the hidden size 8"},
		{SpectralControl{Radius: 1, Every: 1}, true, "recurrent network"},
		{SpectralControl{Every: 1}, false, "finite number > 0"},
	} {
		cfg := elmanConfig(t, 8, c.sc)
		if c.mlp {
			cfg = Config{Hidden: 4, Sigma: 1e-3, Mod: neuromod.Defaults(neuromod.Dopamine1, 1e-3), MaxTrials: 10, Spectral: c.sc}
		}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.sc, err, c.want)
		}
	}
	if err := elmanConfig(t, 8, SpectralControl{Radius: 1, Every: 1, Steps: 8}).Validate(); err != nil {
		t.Error(err)
	}
}

// A network built from InitParams has exactly those parameters (a saved
// network trains on from where it was); a wrong count is refused.
func TestBuildFromInitParams(t *testing.T) {
	c := elmanConfig(t, 5, SpectralControl{})
	first, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	c.InitParams, c.Seed = first.Params(), 99
	again, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Params(), first.Params()) || len(c.InitParams) != c.ParamCount() {
		t.Errorf("built from InitParams: %v, want %v (count %d)", again.Params(), first.Params(), c.ParamCount())
	}
	c.InitParams = c.InitParams[1:]
	if _, err := Build(c); err == nil || !strings.Contains(err.Error(), "initial parameters for a network of") {
		t.Errorf("short InitParams: %v", err)
	}
}
