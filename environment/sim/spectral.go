package sim

import (
	"errors"
	"fmt"
	"math"

	"github.com/dopasim/dopasim/synapse"
)

// SpectralControl is the spectral-radius control of an Elman network's
// recurrent weights (the paper resets them every step): after the update of
// every trial t with (t+1) mod Every = 0, the recurrent matrix W (H×H, row i
// the recurrent weights of hidden neuron i) is rescaled to radius Radius,
//
//	W ← W · Radius/ρ̂,
//
// ρ̂ the Arnoldi estimate of ρ(W) after Steps products W·q. No neuron, and
// no other party, holds W: each product is H dot products, one per hidden
// neuron with its own row (synapse.Neuron.Dot), and each neuron scales its
// own row (synapse.Neuron.Scale). The zero value is off.
type SpectralControl struct {
	// Radius is the target spectral radius ρ* (> 0; 0: no control).
	Radius float64 `json:"radius"`
	// Every is the number of trials between controls (≥ 1 with a Radius).
	Every uint64 `json:"every"`
	// Steps is the number of Arnoldi products m per control (1 … H);
	// 0: min(H, DefaultSpectralSteps).
	Steps int `json:"steps"`
}

// DefaultSpectralSteps is the default number of Arnoldi products per
// control: on random matrices like the recurrent layer's (N(0, 1/H)
// entries, whose eigenvalues fill a disc with no gap at its edge, the
// slowest case) the radius is then within 0.1 % at H = 512, where 20
// products miss it by 5–8 % (TestArnoldiOnRandomLayers,
// docs/learning-rules.md).
const DefaultSpectralSteps = 60

// On reports whether the control is on.
func (s SpectralControl) On() bool { return s.Radius != 0 }

// Due reports whether the control runs after the update of trial t.
func (s SpectralControl) Due(t uint64) bool { return s.On() && (t+1)%s.Every == 0 }

// Messages returns what one control costs the actor engine for a layer of
// H neurons: at most Steps products of H vectors out and H rows back, then
// H rescalings, H·(2·Steps + 1) messages (fewer if the iteration ends early).
func (s SpectralControl) Messages(H int) int { return H * (2*s.steps(H) + 1) }

// StepsFor returns the Arnoldi products per control for a layer of H
// neurons (Steps, or its default).
func (s SpectralControl) StepsFor(H int) int { return s.steps(H) }

// steps returns the products per control for a layer of H neurons.
func (s SpectralControl) steps(H int) int {
	if s.Steps == 0 {
		return min(H, DefaultSpectralSteps)
	}
	return s.Steps
}

func (s SpectralControl) validate(c Config) error {
	switch {
	case s == SpectralControl{}:
		return nil
	case !(s.Radius > 0) || math.IsInf(s.Radius, 0):
		return fmt.Errorf("spectral radius %v must be a finite number > 0", s.Radius)
	case c.Arch != Elman:
		return errors.New("the spectral-radius control is of the recurrent network's weights (chaos)")
	case c.Method != Perturbation:
		return errors.New("the spectral-radius control runs with the perturbation optimizers (the gradient baselines do not apply it)")
	case s.Every < 1:
		return errors.New("the spectral-radius control needs a period of at least 1 trial")
	case s.Steps < 0 || s.Steps > c.Hidden:
		return fmt.Errorf("spectral steps %d must be from 1 to the hidden size %d (0: the default)", s.Steps, c.Hidden)
	}
	return nil
}

// SpectralStats sums up a run's spectral-radius controls.
type SpectralStats struct {
	Controls int     `json:"controls"`
	Products int     `json:"products"`    // W·q products over all controls: H dot products each
	Last     float64 `json:"last_radius"` // ρ̂ before the last control's rescaling
	Skipped  int     `json:"skipped"`     // controls whose ρ̂ was 0 or not finite: nothing rescaled
}

// ControlSpectrum runs the control of layer (an Elman hidden layer of c's
// network) after the update of trial t and adds it to st: the Arnoldi
// iteration (NewSpectralArnoldi) over the rows' dot products, then each
// neuron's rescaling of its row by SpectralFactor. The reference engine
// calls it; the actor engine computes exactly its arithmetic with messages
// (a dot product from each neuron for each vector, one factor to each).
func ControlSpectrum(c Config, layer Layer, t uint64, st *SpectralStats) {
	H, from := len(layer.Neurons), c.Window().RecurrentFrom()
	a := NewSpectralArnoldi(c, H, t)
	w := make([]float64, H)
	for q := a.Next(); q != nil; q = a.Next() {
		for i, n := range layer.Neurons {
			w[i] = n.Dot(from, q)
		}
		a.Take(w)
	}
	factor := SpectralFactor(c.Spectral, a, st)
	for _, n := range layer.Neurons {
		n.Scale(from, H, factor)
	}
}

// NewSpectralArnoldi starts the control after trial t of a layer of H
// neurons: Steps products, from a start vector of stream
// synapse.Key(c.Seed, StreamSpectral, t).
func NewSpectralArnoldi(c Config, H int, t uint64) *Arnoldi {
	return NewArnoldi(H, c.Spectral.steps(H), synapse.NewSource(synapse.Key(c.Seed, synapse.StreamSpectral, t)))
}

// SpectralFactor ends a control whose iteration a is done: it adds it to
// st and returns the factor Radius/ρ̂ every row is scaled by, or 1 (nothing
// changes, counted as skipped) if ρ̂ is 0 or not finite.
func SpectralFactor(sc SpectralControl, a *Arnoldi, st *SpectralStats) float64 {
	rho := a.Radius()
	st.Controls++
	st.Products += a.Products()
	st.Last = rho
	if !(rho > 0) || math.IsInf(rho, 0) {
		st.Skipped++
		return 1
	}
	return sc.Radius / rho
}
