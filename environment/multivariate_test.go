package environment

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// A window with covariates is [step][channel]: at step τ the target's value
// then each covariate's, each normalised by its own training part; the
// target is the target's alone, persistence reads the target's last value,
// and there is no free run.
func TestMultivariateWindows(t *testing.T) {
	n := 200
	target, a, b := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		target[i] = math.Sin(0.2 * float64(i))
		a[i] = 100 + 5*math.Cos(0.3*float64(i))
		b[i] = float64(i % 7)
	}
	cfg := ForecastConfig{Window: 4, Batch: 3, Train: 0.6, Val: 0.2}
	f, err := NewMultivariateForecast("test", target, [][]float64{a, b}, []string{"a", "b"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	uni, err := NewForecast("test", target, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f.StepWidth() != 3 || f.InputWidth() != 12 {
		t.Fatalf("step width %d, input width %d; want 3 and 12", f.StepWidth(), f.InputWidth())
	}
	sc := f.CovariateScales()
	ma, sa := meanStd(a[:f.trainEnd])
	if len(sc) != 2 || sc[0] != (Scale{Mean: ma, Std: sa}) {
		t.Fatalf("covariate scales %v, want a's %v %v first", sc, ma, sa)
	}
	x, y, m := f.Windows(Test)
	ux, uy, um := uni.Windows(Test)
	if m != um || !slices.Equal(y, uy) {
		t.Fatalf("targets differ from the univariate forecast's")
	}
	for i := range m {
		start := f.valEnd + i - cfg.Window // the window before target valEnd+i
		for tau := range cfg.Window {
			got := x[(i*cfg.Window+tau)*3 : (i*cfg.Window+tau+1)*3]
			want := []float64{ux[i*cfg.Window+tau], (a[start+tau] - sc[0].Mean) / sc[0].Std, (b[start+tau] - sc[1].Mean) / sc[1].Std}
			if !slices.Equal(got, want) {
				t.Fatalf("window %d step %d = %v, want %v", i, tau, got, want)
			}
		}
	}
	if p, q := f.Persistence(Test), uni.Persistence(Test); p != q {
		t.Errorf("persistence %v, the univariate forecast's %v", p, q)
	}
	zero := func(w []float64, n int) []float64 { return make([]float64, n) }
	if nrmse, starts, valid := f.FreeRun(zero, 5, 1, 0.4); !math.IsNaN(nrmse) || starts != 0 || !math.IsNaN(valid) {
		t.Errorf("free run with covariates = %v, %d, %v; want none", nrmse, starts, valid)
	}
	if f.Trajectory(zero, 5) != nil {
		t.Error("a trajectory with covariates")
	}
	run := f.WithSeed(9)
	in := run.Inputs(4)
	if len(in) != cfg.Batch*f.InputWidth() {
		t.Fatalf("trial inputs %d values, want %d", len(in), cfg.Batch*f.InputWidth())
	}
	// Each trial window's last target value (channel 0 of its last step)
	// is the value before its target, as in the univariate forecast.
	urun := uni.WithSeed(9)
	uin := urun.Inputs(4)
	for p := range cfg.Batch {
		if got, want := in[(p*cfg.Window+cfg.Window-1)*3], uin[p*cfg.Window+cfg.Window-1]; got != want {
			t.Errorf("pattern %d: last target value %v, univariate %v", p, got, want)
		}
	}
}

func TestMultivariateForecastRejects(t *testing.T) {
	n := 100
	target, short, flat := make([]float64, n), make([]float64, n-1), make([]float64, n)
	for i := range n {
		target[i] = math.Sin(0.2 * float64(i))
	}
	cfg := ForecastConfig{Window: 4, Batch: 3, Train: 0.6, Val: 0.2}
	for _, c := range []struct {
		cov  []float64
		want string
	}{
		{short, "covariate c has 99 samples, the target 100"},
		{flat, "covariate c: the training part is constant"},
	} {
		_, err := NewMultivariateForecast("test", target, [][]float64{c.cov}, []string{"c"}, cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

// A flow's coordinates come from one trajectory: x is Generate's, bit for
// bit, and an unknown coordinate is named in the error.
func TestGenerateCoordinates(t *testing.T) {
	for _, s := range []System{Lorenz(), Rossler(), MackeyGlass()} {
		c, err := s.GenerateCoordinates(50, 0, s.Coordinates)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c[0], s.Generate(50)) || len(c) != len(s.Coordinates) {
			t.Errorf("%s: x differs from Generate's", s.Name)
		}
		if len(c) == 3 && slices.Equal(c[1], c[2]) {
			t.Errorf("%s: y and z are the same", s.Name)
		}
	}
	if _, err := MackeyGlass().GenerateCoordinates(5, 0, []string{"y"}); err == nil || !strings.Contains(err.Error(), `no coordinate "y"`) {
		t.Errorf("mackey-glass y: %v", err)
	}
}

// Segment k of n samples is samples k·n … (k+1)·n − 1 of the orbit.
func TestGenerateSegments(t *testing.T) {
	for _, s := range []System{Lorenz(), MackeyGlass()} {
		long := s.Generate(90)
		for k := range 3 {
			c, err := s.GenerateCoordinates(30, k, s.Coordinates[:1])
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c[0], long[30*k:30*(k+1)]) {
				t.Errorf("%s: segment %d is not samples %d … %d", s.Name, k, 30*k, 30*(k+1)-1)
			}
		}
	}
}
