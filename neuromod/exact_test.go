package neuromod

import (
	"math"
	"math/rand/v2"
	"testing"
)

// documented is the order of operations docs/learning-rules.md ("Exact
// evaluation") gives for one trial, written from the page, not from
// Modulator: a program that follows the page must get Step's bits.
type documented struct {
	c            Config
	s, m, eta, b float64
	seeded       bool
}

func newDocumented(c Config) *documented {
	d := &documented{c: c, eta: c.Eta}
	if c.S0 > 0 {
		d.s, d.m, d.seeded = c.S0, c.S0, true
	}
	return d
}

func (d *documented) step(l Losses) (delta, eta float64) {
	c := d.c
	raw := l.Plus - l.Clean
	if c.TwoSided {
		raw = (l.Plus - l.Minus) / 2
	}
	delta = raw
	if c.Baseline > 0 {
		delta = raw - d.b
	}
	a := math.Abs(delta)
	if !d.seeded && a > 0 {
		d.s, d.m, d.seeded = a, a, true
	}
	ps, pm := d.s, d.m
	switch c.Rule {
	case Literal:
		d.s = c.Beta*d.s + (1-c.Beta)*a
		src := d.s
		if c.Order == Pre {
			src = ps
		}
		eta = c.BetaSlow*src + (1-c.BetaSlow)*d.eta
	case Fixed:
		eta = c.Eta
	default:
		if a > 0 {
			d.s = c.Beta*d.s + (1-c.Beta)*a
			d.m = c.BetaSlow*d.m + (1-c.BetaSlow)*a
		}
		s, m := d.s, d.m
		if c.Order == Pre {
			s, m = ps, pm
		}
		if c.Rule == Dopamine2 {
			s = math.Max(s, m)
		}
		if s != 0 {
			eta = (c.Eta * c.Sigma) / s
		}
	}
	if eta < c.EtaMin {
		eta = c.EtaMin
	}
	if c.EtaMax > 0 && eta > c.EtaMax {
		eta = c.EtaMax
	}
	if c.Rule == Literal {
		d.eta = eta
	}
	if c.Baseline > 0 {
		d.b = c.Baseline*d.b + (1-c.Baseline)*raw
	}
	return delta, eta
}

// Step follows the documented order of operations bit for bit, for every
// rule, both orders, with and without a baseline, clamps and --s0, two-sided
// too, on losses with runs of δ = 0 (before and after seeding) and RPEs
// over many magnitudes.
func TestStepIsTheDocumentedEvaluation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, rule := range []Rule{Fixed, Dopamine1, Dopamine2, Literal} {
		for _, order := range []Order{Post, Pre} {
			for _, v := range []struct {
				baseline, etaMin, etaMax, s0 float64
				two                          bool
			}{
				{}, {baseline: 0.9}, {etaMin: 0.05, etaMax: 0.3}, {s0: 2e-4}, {two: true, baseline: 0.5},
			} {
				c := Defaults(rule, 1e-3)
				c.Order, c.Baseline, c.EtaMin, c.EtaMax, c.TwoSided = order, v.baseline, v.etaMin, v.etaMax, v.two
				if v.s0 > 0 {
					c.S0 = v.s0
				}
				m, d := mustNew(t, c), newDocumented(c)
				for trial := 0; trial < 400; trial++ {
					l := Losses{Clean: 0.25, Plus: 0.25, Minus: 0.25} // δ = 0: the first trials, and every 7th
					if trial > 3 && trial%7 != 0 {
						scale := math.Pow(10, -2-4*rng.Float64())
						l.Plus, l.Minus = 0.25+scale*rng.NormFloat64(), 0.25+scale*rng.NormFloat64()
					}
					sig, err := m.Step(l)
					if err != nil {
						t.Fatal(err)
					}
					delta, eta := d.step(l)
					if math.Float64bits(sig.Delta) != math.Float64bits(delta) || math.Float64bits(sig.Eta) != math.Float64bits(eta) {
						t.Fatalf("%v %v %+v trial %d: Step gives δ %v η %v, the documented order %v, %v", rule, order, v, trial, sig.Delta, sig.Eta, delta, eta)
					}
				}
			}
		}
	}
}

// Before the first non-zero δ a Dopamine rule's η is --eta-min, not 0.
func TestEtaBeforeSeedingIsEtaMin(t *testing.T) {
	c := Defaults(Dopamine1, 1e-3)
	c.EtaMin = 0.05
	sig, err := mustNew(t, c).Step(Losses{Clean: 1, Plus: 1})
	if err != nil || sig.Eta != 0.05 || sig.Delta != 0 {
		t.Errorf("%+v, %v; want δ 0 and η = eta_min 0.05", sig, err)
	}
}
