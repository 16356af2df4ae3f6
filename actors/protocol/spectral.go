package protocol

import (
	"fmt"

	"github.com/dopasim/dopasim/environment/sim"
)

// The spectral-radius control of the recurrent layer (sim.SpectralControl),
// as messages: after broadcasting the signal of a due trial, the dopamine
// core sends each hidden neuron the Arnoldi iteration's vector, each
// answers with its row's dot product, and after the last product each
// scales its row by the factor it is sent. The dopamine core holds vectors
// of H values, never W; a neuron holds its own row only.

// SpectralVector is step Step of the control after trial Trial: the vector
// q whose product W·q the iteration needs (read only: every hidden neuron
// gets the same slice).
type SpectralVector struct {
	Trial uint64
	Step  int
	Q     []float64
}

// SpectralRow is hidden neuron Slot's share of W·q: its row's dot product
// with the vector of step Step.
type SpectralRow struct {
	Trial uint64
	Step  int
	Slot  int
	Value float64
}

// SpectralScale ends the control after trial Trial: each hidden neuron
// multiplies its recurrent weights by Factor (1: unchanged).
type SpectralScale struct {
	Trial  uint64
	Factor float64
}

// spectralDriver is the dopamine core's side of the control.
type spectralDriver struct {
	sc     sim.SpectralControl
	hidden int
	trial  uint64
	a      *sim.Arnoldi // nil: no control under way
	w      []float64    // W·q gathered, by slot
	got    []bool
	n      int // rows gathered for the current step
	stats  sim.SpectralStats
}

// start begins the control after trial t, returning its first vector.
func (d *spectralDriver) start(cfg sim.Config, t uint64) *SpectralVector {
	d.trial, d.a = t, sim.NewSpectralArnoldi(cfg, d.hidden, t)
	d.w, d.got, d.n = make([]float64, d.hidden), make([]bool, d.hidden), 0
	return &SpectralVector{Trial: t, Step: 0, Q: d.a.Next()}
}

// row takes one neuron's dot product; once the step has every row it
// returns the next vector, or the factor that ends the control.
func (d *spectralDriver) row(r *SpectralRow) (*SpectralVector, *SpectralScale, error) {
	if d.a == nil || r.Trial != d.trial || r.Step != d.a.Products() || r.Slot < 0 || r.Slot >= d.hidden || d.got[r.Slot] {
		return nil, nil, fmt.Errorf("spectral row %+v out of turn", *r)
	}
	d.w[r.Slot], d.got[r.Slot] = r.Value, true
	if d.n++; d.n < d.hidden {
		return nil, nil, nil
	}
	d.a.Take(d.w)
	clear(d.got)
	d.n = 0
	if q := d.a.Next(); q != nil {
		return &SpectralVector{Trial: d.trial, Step: d.a.Products(), Q: q}, nil, nil
	}
	factor := sim.SpectralFactor(d.sc, d.a, &d.stats)
	d.a = nil
	return nil, &SpectralScale{Trial: d.trial, Factor: factor}, nil
}
