package protocol

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dopasim/dopasim/neuromod"
)

func TestParseDelay(t *testing.T) {
	good := []struct {
		in   string
		want Delay
	}{
		{"0", Delay{}},
		{"3", Delay{Kind: Const, A: 3}},
		{"const:7", Delay{Kind: Const, A: 7}},
		{"uniform:1..4", Delay{Kind: Uniform, A: 1, B: 4}},
		{"uniform:2..2", Delay{Kind: Uniform, A: 2, B: 2}},
		{"exp:0.5", Delay{Kind: Exp, A: 0.5}},
		{"exp:8", Delay{Kind: Exp, A: 8}},
		{"200us", Delay{Kind: Const, Wall: true, A: 200e3}},
		{"const:1.5ms", Delay{Kind: Const, Wall: true, A: 1.5e6}},
		{"0s", Delay{}},
		{"uniform:0..5ms", Delay{Kind: Uniform, Wall: true, A: 0, B: 5e6}},
		{"uniform:1ms..2ms", Delay{Kind: Uniform, Wall: true, A: 1e6, B: 2e6}},
		{"exp:500µs", Delay{Kind: Exp, Wall: true, A: 500e3}},
		{"1h", Delay{Kind: Const, Wall: true, A: 3600e9}},
	}
	for _, c := range good {
		got, err := ParseDelay(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseDelay(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, want string }{
		{"-1", "whole number"},
		{"1.5", "whole number"},
		{"NaN", "neither"},
		{"const:", "whole number"},
		{"uniform:4..1", "lower bound is above"},
		{"uniform:1,4", "want uniform:A..B"},
		{"uniform:1..x", "neither"},
		{"exp:0", "above 0"},
		{"exp:-2", "above 0"},
		{"exp:NaN", "neither"},
		{"exp:+Inf", "neither"},
		{"uniform:1..5ms", "mix trials and wall time"},
		{"uniform:1ms..5", "mix trials and wall time"},
		{"uniform:3ms..1ms", "lower bound is above"},
		{"exp:0s", "above 0"},
		{"-1ms", "neither"},
		{"61m", "neither"},
		{"5 parsecs", "neither"},
		{"exp:1e300", "at most"},
		{"99999999999999999", "whole number"},
		{"gauss:1", `unknown distribution "gauss"`},
		{"", "whole number"},
	}
	for _, c := range bad {
		if _, err := ParseDelay(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseDelay(%q): err %v, want one mentioning %q", c.in, err, c.want)
		}
	}
}

func FuzzParseDelay(f *testing.F) {
	for _, s := range []string{"0", "3", "const:2", "uniform:1..4", "exp:2.5", "exp:1e-300", "uniform:..", "::", "exp:0x1p3", "200us", "uniform:0..5ms", "exp:1.5ms", "1h0m0s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDelay(s)
		if err != nil {
			return
		}
		again, err := ParseDelay(d.String())
		if err != nil || again != d {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, d, d.String(), again, err)
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("%q parsed to %+v: %v", s, d, err)
		}
		r := rand.New(rand.NewPCG(uint64(len(s)), 1))
		for range 8 {
			k := d.Draw(r)
			if d.Kind != Exp && (float64(k) < d.A || float64(k) > max(d.A, d.B)) {
				t.Fatalf("%q: drew %d outside [%v, %v]", s, k, d.A, max(d.A, d.B))
			}
		}
	})
}

// Draws follow their distribution: a constant never varies, a uniform stays
// in its bounds with its mean, and the geometric "exp" has mean A and
// P(0) = 1/(1+A).
func TestDelayDraws(t *testing.T) {
	const n = 200_000
	for _, d := range []Delay{{Kind: Const, A: 3}, {Kind: Uniform, A: 2, B: 6}, {Kind: Exp, A: 0.5}, {Kind: Exp, A: 4}} {
		r := rand.New(rand.NewPCG(1, 2))
		var sum, zeros float64
		lo, hi := uint64(math.MaxUint64), uint64(0)
		for range n {
			k := d.Draw(r)
			sum += float64(k)
			lo, hi = min(lo, k), max(hi, k)
			if k == 0 {
				zeros++
			}
		}
		mean := sum / n
		if math.Abs(mean-d.Mean()) > 0.02*(1+d.Mean()) {
			t.Errorf("%v: mean %.4f over %d draws, want %.4f", d, mean, n, d.Mean())
		}
		switch d.Kind {
		case Const:
			if lo != 3 || hi != 3 {
				t.Errorf("%v: draws from %d to %d", d, lo, hi)
			}
		case Uniform:
			if lo != 2 || hi != 6 {
				t.Errorf("%v: draws from %d to %d, want 2 to 6", d, lo, hi)
			}
		case Exp:
			if p := zeros / n; math.Abs(p-1/(1+d.A)) > 0.01 {
				t.Errorf("%v: P(0) = %.4f, want %.4f", d, p, 1/(1+d.A))
			}
		}
	}
}

// The delay line releases signals once their trial is due, in (due, trial,
// neuron) order, and every signal is delivered, missed or pending.
func TestDelayLine(t *testing.T) {
	var l delayLine
	sig := func(x float64) neuromod.Signal { return neuromod.Signal{Delta: x, Eta: 1} }
	l.add(Delayed{due: 2, Trial: 0, Neuron: 1, Sig: sig(1)})
	l.add(Delayed{due: 0, Trial: 0, Neuron: 0, Sig: sig(2)})
	l.add(Delayed{due: 2, Trial: 1, Neuron: 0, Sig: sig(3)})
	l.add(Delayed{due: 2, Trial: 0, Neuron: 0, Sig: sig(4)})
	l.add(Delayed{due: 9, Trial: 3, Neuron: 0, Sig: sig(5)})
	var got []string
	emit := func(d Delayed) { got = append(got, fmt.Sprintf("t%d/n%d", d.Trial, d.Neuron)) }
	for scored := uint64(0); scored < 4; scored++ {
		l.release(scored, emit)
		got = append(got, "|")
		if err := l.check(); err != nil {
			t.Fatal(err)
		}
	}
	if want := "t0/n0 | | t0/n0 t0/n1 t1/n0 | |"; strings.Join(got, " ") != want {
		t.Errorf("released %s, want %s", strings.Join(got, " "), want)
	}
	if n := l.end(); n != 1 || l.added != 5 || l.delivered != 4 || l.missed != 1 {
		t.Errorf("end: %d missed; added %d delivered %d missed %d", n, l.added, l.delivered, l.missed)
	}
	if err := l.check(); err != nil {
		t.Fatal(err)
	}
}

func ExampleParseDelay() {
	for _, s := range []string{"2", "uniform:0..4", "exp:1.5", "200us", "exp:1.5ms"} {
		d, err := ParseDelay(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		if d.Wall {
			fmt.Printf("%s: mean %v of wall time\n", d, time.Duration(d.Mean()))
			continue
		}
		fmt.Printf("%s: mean %g trials\n", d, d.Mean())
	}
	_, err := ParseDelay("exp:-1")
	fmt.Println(err)
	// Output:
	// 2: mean 2 trials
	// uniform:0..4: mean 2 trials
	// exp:1.5: mean 1.5 trials
	// 200µs: mean 200µs of wall time
	// exp:1.5ms: mean 1.5ms of wall time
	// delay "exp:-1": the mean must be a number of trials above 0 and at most 1099511627776 (or a duration like 200us)
}
