package environment

import (
	"fmt"
	"slices"
	"strings"
)

// A chaotic system, integrated with a documented method and step, sampled at
// a fixed interval after a transient is discarded. Generation is
// deterministic: the initial conditions are constants, no random numbers.
type System struct {
	// Name is the command-line name.
	Name string
	// Sample is the time between two samples of the series (time units).
	Sample float64
	// Lyapunov is the largest Lyapunov exponent (1/time units), 0 if the
	// valid prediction time is not reported for this system.
	Lyapunov float64
	// Coordinates names the system's state variables, the observed one
	// first (GenerateCoordinates).
	Coordinates []string
	generate    func(n int) [][]float64 // n samples of every coordinate
}

// Generate returns n samples of the system's observed coordinate.
func (s System) Generate(n int) []float64 { return s.generate(n)[0] }

// GenerateCoordinates returns n samples of each named coordinate (of
// Coordinates) of segment k ≥ 0 of the system's trajectory: the samples
// k·n … (k+1)·n − 1 after the transient, so segment 0 is Generate's and
// the segments do not overlap (a segment of the same orbit, not a new
// start: one run's data is never another's). Its cost is (k+1)·n samples.
func (s System) GenerateCoordinates(n, k int, names []string) ([][]float64, error) {
	if n < 0 || k < 0 {
		return nil, fmt.Errorf("%s: segment %d of %d samples", s.Name, k, n)
	}
	all := s.generate((k + 1) * n)
	out := make([][]float64, len(names))
	for i, name := range names {
		c := slices.Index(s.Coordinates, name)
		if c < 0 {
			return nil, fmt.Errorf("%s has no coordinate %q (it has %s)", s.Name, name, strings.Join(s.Coordinates, ", "))
		}
		out[i] = all[c][k*n:]
	}
	return out, nil
}

// Systems lists the built-in chaotic systems.
func Systems() []System { return []System{MackeyGlass(), Lorenz(), Rossler()} }

// SystemByName returns the built-in system with the given name.
func SystemByName(name string) (System, error) {
	for _, s := range Systems() {
		if s.Name == name {
			return s, nil
		}
	}
	return System{}, fmt.Errorf("unknown series %q (want mackey-glass, lorenz, rossler or file:PATH)", name)
}

// Mackey-Glass parameters (the τ = 17 benchmark).
const (
	mgTau   = 17.0
	mgA     = 0.2
	mgB     = 0.1
	mgN     = 10.0
	mgDt    = 0.1    // integration step
	mgX0    = 1.2    // x(t) for t ≤ 0
	mgBurn  = 1000.0 // time units discarded
	mgEvery = 10     // steps per sample: one sample per time unit
)

// MackeyGlass is the delay equation
//
//	dx/dt = a·x(t−τ) / (1 + x(t−τ)ⁿ) − b·x(t),   τ = 17, a = 0.2, b = 0.1, n = 10,
//
// with x(t) = 1.2 for t ≤ 0, integrated by fourth-order Runge–Kutta with step
// 0.1 (the delayed value at a half step is the mean of its two neighbouring
// grid values), sampled once per time unit after 1 000 time units.
func MackeyGlass() System {
	return System{Name: "mackey-glass", Sample: 1, Coordinates: []string{"x"}, generate: func(n int) [][]float64 {
		return [][]float64{mackeyGlass(n)}
	}}
}

func mackeyGlass(n int) []float64 {
	const delay = 170  // τ/dt steps
	const burn = 10000 // mgBurn/dt steps
	steps := burn + n*mgEvery
	// x is a ring of the last delay+1 grid values: x[i%len] is step i−delay.
	const size = delay + 2
	var x [size]float64
	for i := range x {
		x[i] = mgX0
	}
	f := func(xt, xd float64) float64 {
		p := xd
		for k := 1; k < int(mgN); k++ {
			p *= xd
		}
		return mgA*xd/(1+p) - mgB*xt
	}
	out := make([]float64, 0, n)
	for i := delay; i < delay+steps; i++ {
		xi := x[i%size]
		d0, d1 := x[(i-delay)%size], x[(i-delay+1)%size]
		dh := (d0 + d1) / 2
		k1 := f(xi, d0)
		k2 := f(xi+mgDt/2*k1, dh)
		k3 := f(xi+mgDt/2*k2, dh)
		k4 := f(xi+mgDt*k3, d1)
		next := xi + mgDt/6*(k1+2*k2+2*k3+k4)
		x[(i+1)%size] = next
		if s := i + 1 - delay; s > burn && (s-burn)%mgEvery == 0 {
			out = append(out, next)
		}
	}
	return out
}

// rk4 advances the autonomous 3-D system dv/dt = f(v) by one step h.
func rk4(v [3]float64, h float64, f func([3]float64) [3]float64) [3]float64 {
	add := func(a, b [3]float64, s float64) [3]float64 {
		return [3]float64{a[0] + s*b[0], a[1] + s*b[1], a[2] + s*b[2]}
	}
	k1 := f(v)
	k2 := f(add(v, k1, h/2))
	k3 := f(add(v, k2, h/2))
	k4 := f(add(v, k3, h))
	for i := range v {
		v[i] += h / 6 * (k1[i] + 2*k2[i] + 2*k3[i] + k4[i])
	}
	return v
}

// flow3 integrates f from v0 with step h, discards burn steps, and returns n
// samples of each coordinate taken every `every` steps.
func flow3(n int, v0 [3]float64, h float64, burn, every int, f func([3]float64) [3]float64) [][]float64 {
	v := v0
	for i := 0; i < burn; i++ {
		v = rk4(v, h, f)
	}
	out := make([][]float64, 3)
	for k := range out {
		out[k] = make([]float64, 0, n)
	}
	for len(out[0]) < n {
		for i := 0; i < every; i++ {
			v = rk4(v, h, f)
		}
		for k := range out {
			out[k] = append(out[k], v[k])
		}
	}
	return out
}

// xyz are the coordinates of a three-dimensional flow, x observed.
var xyz = []string{"x", "y", "z"}

// Lorenz is the Lorenz-63 system
//
//	dx/dt = σ(y − x),  dy/dt = x(ρ − z) − y,  dz/dt = xy − βz,   σ = 10, ρ = 28, β = 8/3,
//
// from (1, 1, 1), integrated by fourth-order Runge–Kutta with step 0.01,
// observed through x (y and z are GenerateCoordinates'), sampled every 0.02
// time units after 100 time units.
// Its largest Lyapunov exponent is about 0.906, so one Lyapunov time is about
// 1.10 time units (55 samples).
func Lorenz() System {
	return System{Name: "lorenz", Sample: 0.02, Lyapunov: 0.906, Coordinates: xyz, generate: func(n int) [][]float64 {
		return flow3(n, [3]float64{1, 1, 1}, 0.01, 10000, 2, lorenz)
	}}
}

func lorenz(v [3]float64) [3]float64 {
	return [3]float64{10 * (v[1] - v[0]), v[0]*(28-v[2]) - v[1], v[0]*v[1] - 8.0/3*v[2]}
}

// Rossler is the Rössler system
//
//	dx/dt = −y − z,  dy/dt = x + a·y,  dz/dt = b + z(x − c),   a = b = 0.2, c = 5.7,
//
// from (1, 1, 1), integrated by fourth-order Runge–Kutta with step 0.01,
// observed through x (y and z are GenerateCoordinates'), sampled every 0.1
// time units after 500 time units.
func Rossler() System {
	return System{Name: "rossler", Sample: 0.1, Coordinates: xyz, generate: func(n int) [][]float64 {
		return flow3(n, [3]float64{1, 1, 1}, 0.01, 50000, 10, rossler)
	}}
}

func rossler(v [3]float64) [3]float64 {
	return [3]float64{-v[1] - v[2], v[0] + 0.2*v[1], 0.2 + v[2]*(v[0]-5.7)}
}
