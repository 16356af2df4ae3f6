package neuromod

import (
	"errors"
	"math"
	"testing"
)

func mustNew(t *testing.T, c Config) *Modulator {
	t.Helper()
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRPE(t *testing.T) {
	l := Losses{Clean: 1, Plus: 1.5, Minus: 0.25}
	if got := RPE(l, false); got != 0.5 {
		t.Errorf("one-sided RPE = %v, want L(w+ξ) − L(w) = 0.5", got)
	}
	if got := RPE(l, true); got != 0.625 {
		t.Errorf("two-sided RPE = %v, want (L(w+ξ) − L(w−ξ))/2 = 0.625", got)
	}
}

// Each rule, fed a scripted sequence of losses, gives the signals its equation
// says. Expected values are written out by hand from the equations in
// docs/learning-rules.md.
func TestRulesFollowTheirEquations(t *testing.T) {
	const sigma = 0.1
	seq := []Losses{{1, 1.2, 0}, {1, 0.6, 0}, {1, 1.05, 0}} // δ = 0.2, −0.4, 0.05 (to rounding)
	d := make([]float64, len(seq))
	for i, l := range seq {
		d[i] = l.Plus - l.Clean // at run time, in float64 (constants would fold exactly)
	}
	a := []float64{math.Abs(d[0]), math.Abs(d[1]), math.Abs(d[2])}
	ema := func(beta float64, xs ...float64) float64 { // seeded with xs[0]
		s := xs[0]
		for _, x := range xs {
			s = beta*s + (1-beta)*x
		}
		return s
	}
	cases := []struct {
		name string
		cfg  Config
		eta  []float64
	}{
		{"wp", Config{Rule: Fixed, Eta: 2, Sigma: sigma}, []float64{2, 2, 2}},
		{"dopamine1 post", Config{Rule: Dopamine1, Eta: 0.5, Sigma: sigma, Beta: 0.5}, []float64{
			0.5 * sigma / ema(0.5, a[0]),
			0.5 * sigma / ema(0.5, a[0], a[1]),
			0.5 * sigma / ema(0.5, a[0], a[1], a[2]),
		}},
		{"dopamine1 pre", Config{Rule: Dopamine1, Eta: 0.5, Sigma: sigma, Beta: 0.5, Order: Pre}, []float64{
			0.5 * sigma / a[0],
			0.5 * sigma / ema(0.5, a[0]),
			0.5 * sigma / ema(0.5, a[0], a[1]),
		}},
		{"dopamine1 s0", Config{Rule: Dopamine1, Eta: 1, Sigma: sigma, Beta: 0.5, S0: 1}, []float64{
			sigma / (0.5*1 + 0.5*a[0]),
			sigma / (0.5*(0.5*1+0.5*a[0]) + 0.5*a[1]),
			sigma / (0.5*(0.5*(0.5*1+0.5*a[0])+0.5*a[1]) + 0.5*a[2]),
		}},
		{"dopamine2", Config{Rule: Dopamine2, Eta: 0.5, Sigma: sigma, Beta: 0.5, BetaSlow: 0.9}, []float64{
			0.5 * sigma / math.Max(ema(0.5, a[0]), ema(0.9, a[0])),
			0.5 * sigma / math.Max(ema(0.5, a[0], a[1]), ema(0.9, a[0], a[1])),
			0.5 * sigma / math.Max(ema(0.5, a[0], a[1], a[2]), ema(0.9, a[0], a[1], a[2])),
		}},
		{"literal", Config{Rule: Literal, Eta: 0.01, Sigma: sigma, Beta: 0.9, BetaSlow: 0.8, S0: sigma}, func() []float64 {
			s, eta := sigma, 0.01
			var out []float64
			for _, x := range a {
				s = 0.9*s + 0.1*x
				eta = 0.8*s + 0.2*eta
				out = append(out, eta)
			}
			return out
		}()},
		{"clamped", Config{Rule: Dopamine1, Eta: 0.5, Sigma: sigma, Beta: 0.5, EtaMin: 0.2, EtaMax: 0.27}, []float64{
			math.Max(0.2, math.Min(0.27, 0.5*sigma/ema(0.5, a[0]))),
			math.Max(0.2, math.Min(0.27, 0.5*sigma/ema(0.5, a[0], a[1]))),
			math.Max(0.2, math.Min(0.27, 0.5*sigma/ema(0.5, a[0], a[1], a[2]))),
		}},
	}
	for _, c := range cases {
		m := mustNew(t, c.cfg)
		for i, l := range seq {
			sig, err := m.Step(l)
			if err != nil {
				t.Fatalf("%s step %d: %v", c.name, i, err)
			}
			if sig.Delta != d[i] {
				t.Errorf("%s step %d: δ = %v, want %v", c.name, i, sig.Delta, d[i])
			}
			if math.Abs(sig.Eta-c.eta[i]) > 1e-15*math.Abs(c.eta[i]) {
				t.Errorf("%s step %d: η = %.17g, want %.17g", c.name, i, sig.Eta, c.eta[i])
			}
		}
	}
}

// Dopamine1's step η·|δ| is the same whatever the scale of the losses (the
// adaptive-coding property); Fixed's grows with it.
func TestDopamine1IsScaleInvariant(t *testing.T) {
	step := func(rule Rule, scale float64) float64 {
		m := mustNew(t, Config{Rule: rule, Eta: 0.3, Sigma: 1e-3, Beta: 0.9})
		var last float64
		for i := 0; i < 50; i++ {
			l := Losses{Clean: scale, Plus: scale * (1 + 0.01*math.Sin(float64(i)))}
			sig, err := m.Step(l)
			if err != nil {
				t.Fatal(err)
			}
			last = sig.Eta * math.Abs(sig.Delta)
		}
		return last
	}
	if a, b := step(Dopamine1, 1), step(Dopamine1, 1000); math.Abs(a-b) > 1e-12*a {
		t.Errorf("dopamine1 step depends on loss scale: %v vs %v", a, b)
	}
	if a, b := step(Fixed, 1), step(Fixed, 1000); math.Abs(b/a-1000) > 1e-6 {
		t.Errorf("wp step should scale with the loss: %v vs %v", a, b)
	}
}

// Dopamine2's step falls as the RPE falls below its remembered level, while
// Dopamine1 keeps a constant step.
func TestDopamine2StepFallsWithTheRPE(t *testing.T) {
	run := func(rule Rule) (first, last float64) {
		m := mustNew(t, Config{Rule: rule, Eta: 0.3, Sigma: 1e-3, Beta: 0.9, BetaSlow: 0.999})
		for i := 0; i < 2000; i++ {
			size := math.Pow(0.998, float64(i)) // RPE decays 7× per 1000 trials
			sig, err := m.Step(Losses{Clean: 1, Plus: 1 + size*1e-3})
			if err != nil {
				t.Fatal(err)
			}
			step := sig.Eta * math.Abs(sig.Delta)
			if i == 0 {
				first = step
			}
			last = step
		}
		return
	}
	f1, l1 := run(Dopamine1)
	f2, l2 := run(Dopamine2)
	if math.Abs(l1/f1-1) > 0.05 {
		t.Errorf("dopamine1 step changed from %v to %v", f1, l1)
	}
	if l2 > f2/5 {
		t.Errorf("dopamine2 step only fell from %v to %v", f2, l2)
	}
}

func TestBaselineRemovesAConstantRPE(t *testing.T) {
	m := mustNew(t, Config{Rule: Fixed, Eta: 1, Sigma: 1, Baseline: 0.5})
	var deltas []float64
	for i := 0; i < 40; i++ {
		sig, err := m.Step(Losses{Clean: 1, Plus: 1.5})
		if err != nil {
			t.Fatal(err)
		}
		deltas = append(deltas, sig.Delta)
	}
	if deltas[0] != 0.5 || deltas[1] != 0.25 || deltas[2] != 0.125 {
		t.Errorf("first baseline-corrected δ = %v, want 0.5, 0.25, 0.125", deltas[:3])
	}
	if math.Abs(deltas[39]) > 1e-9 {
		t.Errorf("δ after 40 constant trials = %v, want ≈ 0", deltas[39])
	}
}

func TestZeroRPEBeforeSeedingGivesZeroEta(t *testing.T) {
	for _, r := range []Rule{Dopamine1, Dopamine2} {
		m := mustNew(t, Defaults(r, 1e-3))
		sig, err := m.Step(Losses{Clean: 1, Plus: 1})
		if err != nil || sig.Eta != 0 || sig.Delta != 0 {
			t.Errorf("%v: %+v, %v; want zero signal", r, sig, err)
		}
	}
}

func TestNonFiniteIsReportedAndStateKept(t *testing.T) {
	for _, bad := range []Losses{{Clean: math.NaN(), Plus: 1}, {Clean: 1, Plus: math.Inf(1)}} {
		m := mustNew(t, Defaults(Dopamine1, 1e-3))
		ref := mustNew(t, Defaults(Dopamine1, 1e-3))
		if _, err := m.Step(Losses{Clean: 1, Plus: 1.001}); err != nil {
			t.Fatal(err)
		}
		_, _ = ref.Step(Losses{Clean: 1, Plus: 1.001})
		if _, err := m.Step(bad); !errors.Is(err, ErrNonFinite) {
			t.Errorf("%+v: err = %v, want ErrNonFinite", bad, err)
		}
		a, _ := m.Step(Losses{Clean: 1, Plus: 1.002})
		b, _ := ref.Step(Losses{Clean: 1, Plus: 1.002})
		if a != b {
			t.Errorf("state changed by a rejected step: %+v vs %+v", a, b)
		}
	}
	// A finite RPE can still give an infinite η (division of a huge η0).
	m := mustNew(t, Config{Rule: Dopamine1, Eta: math.MaxFloat64, Sigma: 10, Beta: 0.5})
	if _, err := m.Step(Losses{Clean: 0, Plus: 1e-300}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("overflowing η: err = %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := Defaults(Dopamine2, 1e-3)
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for _, r := range Rules() {
		if err := Defaults(r, 1e-3).Validate(); err != nil {
			t.Errorf("%v defaults invalid: %v", r, err)
		}
	}
	bad := []func(c *Config){
		func(c *Config) { c.Eta = -1 },
		func(c *Config) { c.Eta = math.NaN() },
		func(c *Config) { c.Sigma = 0 },
		func(c *Config) { c.Sigma = math.Inf(1) },
		func(c *Config) { c.Beta = 1 },
		func(c *Config) { c.Beta = -0.1 },
		func(c *Config) { c.BetaSlow = 1.5 },
		func(c *Config) { c.Baseline = 1 },
		func(c *Config) { c.S0 = -1 },
		func(c *Config) { c.EtaMin = 2; c.EtaMax = 1 },
		func(c *Config) { c.EtaMax = math.Inf(1) },
		func(c *Config) { c.Rule = 9 },
		func(c *Config) { c.Order = 7 },
	}
	for i, f := range bad {
		c := ok
		f(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("case %d: %+v accepted", i, c)
		}
		if _, err := New(c); err == nil {
			t.Errorf("case %d: New accepted %+v", i, c)
		}
	}
}

func TestParse(t *testing.T) {
	for _, r := range Rules() {
		if got, err := ParseRule(r.String()); err != nil || got != r {
			t.Errorf("ParseRule(%q) = %v, %v", r, got, err)
		}
	}
	for _, o := range []Order{Post, Pre} {
		if got, err := ParseOrder(o.String()); err != nil || got != o {
			t.Errorf("ParseOrder(%q) = %v, %v", o, got, err)
		}
	}
	if _, err := ParseRule("adam"); err == nil {
		t.Error("ParseRule accepted adam")
	}
	if _, err := ParseOrder("sideways"); err == nil {
		t.Error("ParseOrder accepted sideways")
	}
}

// A long stretch of δ = 0 (saturated outputs) must not shrink the RPE scale:
// η stays what it was, and the next non-zero δ gets a normal step instead of
// an overflow.
func TestZeroRPELeavesTheScaleAlone(t *testing.T) {
	for _, r := range []Rule{Dopamine1, Dopamine2} {
		m := mustNew(t, Defaults(r, 1e-3))
		first, err := m.Step(Losses{Clean: 1, Plus: 1.001})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100000; i++ {
			sig, err := m.Step(Losses{Clean: 1, Plus: 1})
			if err != nil {
				t.Fatalf("%v: zero δ at step %d: %v", r, i, err)
			}
			if sig.Eta != first.Eta {
				t.Fatalf("%v: η moved from %v to %v on δ = 0", r, first.Eta, sig.Eta)
			}
		}
		sig, err := m.Step(Losses{Clean: 1, Plus: 1.001})
		if err != nil || sig.Eta != first.Eta {
			t.Fatalf("%v: after the stretch: %+v, %v; want η %v", r, sig, err, first.Eta)
		}
	}
}
