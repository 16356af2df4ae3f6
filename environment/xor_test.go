package environment

import (
	"math"
	"testing"
)

func TestXORSolved(t *testing.T) {
	cases := []struct {
		out  []float64
		want bool
	}{
		{[]float64{0, 1, 1, 0}, true},
		{[]float64{0.05, 0.95, 0.95, 0.05}, true},         // MSE 0.0025
		{[]float64{0.12, 0.88, 0.88, 0.12}, false},        // MSE 0.0144
		{[]float64{0.09, 0.91, 0.91, 0.09}, true},         // MSE 0.0081
		{[]float64{0, 1, 1, 0.5}, false},                  // 0.5 is on neither side
		{[]float64{0, 1, 0.49, 0}, false},                 // wrong side, MSE small enough
		{[]float64{0.3, 0.7, 0.7, 0.3}, false},            // right sides, MSE 0.09
		{[]float64{math.NaN(), 1, 1, 0}, false},           // NaN never solves
		{[]float64{0.0001, 0.9999, 0.9999, 0.0001}, true}, // near-perfect
		{[]float64{0.01, 0.99, 0.99, 0.51}, false},        // one wrong output
		{[]float64{0, 0.85, 0.9, 0}, true},                // MSE (0.0225+0.01)/4 = 0.008125
	}
	for _, c := range cases {
		if got := (XOR{}).Solved(c.out, 0); got != c.want {
			t.Errorf("Solved(%v) = %v, want %v (MSE %v)", c.out, got, c.want, MSE(c.out, xorTargets))
		}
	}
	if !(XOR{Tolerance: 0.1}).Solved([]float64{0.3, 0.7, 0.7, 0.3}, 0) {
		t.Error("a looser tolerance did not accept MSE 0.09")
	}
}

func TestXORShape(t *testing.T) {
	x := XOR{}
	if x.Patterns()*x.InputWidth() != len(x.Inputs(0)) || x.Patterns()*x.OutputWidth() != len(x.Targets(0)) {
		t.Fatal("XOR shapes disagree with its data")
	}
	for p := 0; p < 4; p++ {
		a, b := x.Inputs(0)[2*p], x.Inputs(0)[2*p+1]
		if want := float64(int(a) ^ int(b)); x.Targets(0)[p] != want {
			t.Errorf("pattern %d: target %v, want %v XOR %v = %v", p, x.Targets(0)[p], a, b, want)
		}
	}
}

func TestMSE(t *testing.T) {
	if got := MSE([]float64{1, 2}, []float64{0, 0}); got != 2.5 {
		t.Errorf("MSE = %v, want 2.5", got)
	}
	if got := (XOR{}).Loss([]float64{0, 1, 1, 0}, 3); got != 0 {
		t.Errorf("perfect XOR loss = %v", got)
	}
}

func TestMSEGradMatchesFiniteDifferences(t *testing.T) {
	y := []float64{0.2, 0.7, 0.4, 0.9}
	g := make([]float64, 4)
	(XOR{}).LossGrad(g, y, 0)
	for i := range y {
		h := 1e-6
		up := append([]float64(nil), y...)
		dn := append([]float64(nil), y...)
		up[i] += h
		dn[i] -= h
		fd := ((XOR{}).Loss(up, 0) - (XOR{}).Loss(dn, 0)) / (2 * h)
		if math.Abs(g[i]-fd) > 1e-9 {
			t.Errorf("∂L/∂y_%d = %v, finite difference %v", i, g[i], fd)
		}
	}
}
