package environment

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func ramp(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	return x
}

func ones(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// sine is sin(i/7) for i < n; sineMean and sineStd are its mean and
// spread, summed in float64 at scale 1.
func sine(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Sin(float64(i) / 7)
	}
	return v
}

func sineMean(n int) float64 { m, _ := scaledMoments(sine(n), 1); return m }
func sineStd(n int) float64  { _, s := scaledMoments(sine(n), 1); return s }

func scaled(v []float64, c float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x * c
	}
	return out
}

// meanStd is m = Σv/n and s = √(Σ(v−m)²/n), bit for bit, where those sums
// are finite and s > 0; where they overflow or the squares underflow it
// still gives the right mean and spread, relative to the values' scale.
func TestMeanStd(t *testing.T) {
	direct := func(v []float64) (float64, float64) {
		m, s := 0.0, 0.0
		for _, x := range v {
			m += x
		}
		m /= float64(len(v))
		for _, x := range v {
			s += (x - m) * (x - m)
		}
		return m, math.Sqrt(s / float64(len(v)))
	}
	mg := MackeyGlass().Generate(500)
	for _, v := range [][]float64{ramp(100), mg, scaled(mg, 1e-3)} {
		wm, ws := direct(v)
		if m, s := meanStd(v); math.Float64bits(m) != math.Float64bits(wm) || math.Float64bits(s) != math.Float64bits(ws) {
			t.Errorf("meanStd = %v, %v; the direct sums give %v, %v", m, s, wm, ws)
		}
	}
	alternating := make([]float64, 100)
	for i := range alternating {
		alternating[i] = 1e308 * float64(1-2*(i%2))
	}
	// ramp(100): mean 49.5, spread √((100²−1)/12).
	rampStd := math.Sqrt((100*100 - 1) / 12.0)
	for _, c := range []struct {
		name           string
		v              []float64
		mean, std, tol float64 // tol: relative
	}{
		{"ramp × 1e300 (squares overflow)", scaled(ramp(100), 1e300), 49.5e300, rampStd * 1e300, 1e-12},
		{"±1e308 (the sum overflows)", alternating, 0, 1e308, 1e-12},
		{"ramp × 1e-300 (squares underflow)", scaled(ramp(100), 1e-300), 49.5e-300, rampStd * 1e-300, 1e-12},
		{"sin × 1e-161 (squares subnormal)", scaled(sine(200), 1e-161), sineMean(200) * 1e-161, sineStd(200) * 1e-161, 1e-12},
		{"constant 1e308", scaled(ones(10), 1e308), 1e308, 0, 0},
		{"constant 0.1", scaled(ones(600), 0.1), 0.1, 0, 0},
	} {
		m, s := meanStd(c.v)
		if math.Abs(m-c.mean) > c.tol*math.Abs(c.std) || math.Abs(s-c.std) > c.tol*c.std {
			t.Errorf("%s: meanStd = %g, %g; want %g, %g", c.name, m, s, c.mean, c.std)
		}
	}
}

func TestNewForecastSplitsAndNormalises(t *testing.T) {
	f, err := NewForecast("ramp", ramp(100), ForecastConfig{Window: 4, Batch: 8, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	// Training part 0…59: mean 29.5; the normalisation uses it alone.
	if got := f.Denormalize(0); got != 29.5 {
		t.Errorf("training mean %v, want 29.5", got)
	}
	_, yv, nv := f.Windows(Validation)
	_, yt, nt := f.Windows(Test)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if nv != 20 || nt != 20 || !near(f.Denormalize(yv[0]), 60) || !near(f.Denormalize(yt[0]), 80) || !near(f.Denormalize(yt[19]), 99) {
		t.Errorf("parts: %d validation targets from %v, %d test targets from %v to %v", nv, f.Denormalize(yv[0]), nt, f.Denormalize(yt[0]), f.Denormalize(yt[nt-1]))
	}
	if f.TrainWindows() != 56 || f.TrialsPerEpoch() != 7 {
		t.Errorf("%d training windows, %d trials per epoch", f.TrainWindows(), f.TrialsPerEpoch())
	}
}

func TestNewForecastRejects(t *testing.T) {
	cases := []struct {
		series []float64
		cfg    ForecastConfig
		want   string
	}{
		{ramp(10), ForecastConfig{Window: 8, Batch: 4, Train: 0.6, Val: 0.2}, "too few for window 8"},
		{ramp(100), ForecastConfig{Window: 0, Batch: 4, Train: 0.6, Val: 0.2}, "window"},
		{ramp(100), ForecastConfig{Window: 4, Batch: 0, Train: 0.6, Val: 0.2}, "batch"},
		{ramp(100), ForecastConfig{Window: 4, Batch: 4, Train: 0.8, Val: 0.2}, "split"},
		{make([]float64, 100), ForecastConfig{Window: 4, Batch: 4, Train: 0.6, Val: 0.2}, "constant"},
		{append(ramp(80), make([]float64, 20)...), ForecastConfig{Window: 4, Batch: 4, Train: 0.6, Val: 0.2}, "test part is constant"},
		{ramp(7), ForecastConfig{Window: 2, Batch: 4, Train: 0.6, Val: 0.2}, "too few"}, // one validation target
		// A spread of 1e-300 in training, then 1e300: the test targets
		// cannot be normalised.
		{append(scaled(ramp(80), 1e-300), scaled(ramp(20), 1e300)...), ForecastConfig{Window: 4, Batch: 4, Train: 0.6, Val: 0.2},
			"sample 82 (1e+300) overflows float64 once normalised"},
	}
	for _, c := range cases {
		if _, err := NewForecast("s", c.series, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.cfg, err, c.want)
		}
	}
}

// A run's batches are a function of (key, trial): the same after visiting
// other trials, different for another key; every epoch shows every training
// window; inputs and targets belong together.
func TestForecastBatches(t *testing.T) {
	f, _ := NewForecast("ramp", ramp(200), ForecastConfig{Window: 3, Batch: 10, Train: 0.6, Val: 0.2})
	a, b, c := f.WithSeed(1), f.WithSeed(1), f.WithSeed(2)
	x5 := a.Inputs(5)
	_ = b.Inputs(40) // other epochs first
	if fmt.Sprint(b.Inputs(5)) != fmt.Sprint(x5) {
		t.Fatal("the same trial gave different batches")
	}
	if fmt.Sprint(c.Inputs(5)) == fmt.Sprint(x5) {
		t.Fatal("different keys gave the same batch")
	}
	seen := map[float64]bool{}
	tpe := uint64(f.TrialsPerEpoch())
	for tr := tpe; tr < 2*tpe; tr++ { // epoch 1
		x := a.Inputs(tr)
		out := make([]float64, 10)
		for p := 0; p < 10; p++ {
			w := x[p*3 : p*3+3]
			if math.Abs((w[1]-w[0])-(w[2]-w[1])) > 1e-12 {
				t.Fatalf("window %v is not consecutive", w)
			}
			seen[w[0]] = true
			out[p] = 2*w[2] - w[1] // the next value of a ramp, exactly
		}
		if l := a.Loss(out, tr); l > 1e-20 {
			t.Fatalf("trial %d: loss %v for exact predictions: inputs and targets disagree", tr, l)
		}
	}
	if len(seen) != f.TrainWindows() {
		t.Errorf("epoch 1 showed %d of %d training windows", len(seen), f.TrainWindows())
	}
}

func TestForecastLossGrad(t *testing.T) {
	f, _ := NewForecast("mg", MackeyGlass().Generate(500), DefaultForecast)
	task := f.WithSeed(3)
	out := make([]float64, 128)
	for i := range out {
		out[i] = math.Sin(float64(i))
	}
	g := make([]float64, 128)
	task.LossGrad(g, out, 7)
	for _, i := range []int{0, 17, 127} {
		h := 1e-6
		up, dn := append([]float64(nil), out...), append([]float64(nil), out...)
		up[i] += h
		dn[i] -= h
		if fd := (task.Loss(up, 7) - task.Loss(dn, 7)) / (2 * h); math.Abs(fd-g[i]) > 1e-8 {
			t.Errorf("∂L/∂y_%d = %v, finite difference %v", i, g[i], fd)
		}
	}
}

// The metrics on known predictors: the truth scores 0, predicting the mean
// scores 1, persistence is the last-value predictor, and a perfect
// free-running predictor never misses.
func TestForecastMetrics(t *testing.T) {
	series := MackeyGlass().Generate(1000)
	f, _ := NewForecast("mg", series, DefaultForecast)
	W := f.Config().Window
	oracle := func(x []float64, n int) []float64 { // looks the answer up in the series
		p := make([]float64, n)
		for i := 0; i < n; i++ {
			p[i] = f.z[lookup(f.z, x[i*W:(i+1)*W])+W]
		}
		return p
	}
	if got := f.OneStep(Test, oracle); got != 0 {
		t.Errorf("oracle one-step NRMSE %v", got)
	}
	_, y, _ := f.Windows(Test)
	mean := 0.0
	for _, v := range y {
		mean += v / float64(len(y))
	}
	flat := func(_ []float64, n int) []float64 {
		p := make([]float64, n)
		for i := range p {
			p[i] = mean
		}
		return p
	}
	if got := f.OneStep(Test, flat); math.Abs(got-1) > 1e-12 {
		t.Errorf("mean predictor NRMSE %v, want 1", got)
	}
	last := func(x []float64, n int) []float64 {
		p := make([]float64, n)
		for i := range p {
			p[i] = x[(i+1)*W-1]
		}
		return p
	}
	if a, b := f.OneStep(Test, last), f.Persistence(Test); a != b || !(b > 0.05 && b < 1) {
		t.Errorf("persistence %v, last-value predictor %v", b, a)
	}
	nrmse, starts, valid := f.FreeRun(oracle, 84, 5, 0.4)
	if nrmse != 0 || starts == 0 || valid != 84 {
		t.Errorf("oracle free run: NRMSE %v over %d starts, valid for %v steps", nrmse, starts, valid)
	}
	if tr := f.Trajectory(oracle, 30); len(tr) != 30 || tr[29] != f.z[f.valEnd+29] {
		t.Errorf("oracle trajectory: %d values", len(tr))
	}
	nanPred := func(_ []float64, n int) []float64 {
		p := make([]float64, n)
		for i := range p {
			p[i] = math.NaN()
		}
		return p
	}
	if nrmse, _, valid := f.FreeRun(nanPred, 84, 5, 0.4); !math.IsNaN(nrmse) || valid != 0 {
		t.Errorf("a diverged network: free-run NRMSE %v, valid for %v steps; want NaN and 0", nrmse, valid)
	}
	nrmse, _, valid = f.FreeRun(last, 84, 5, 0.4)
	if !(nrmse > 0.5) || valid >= 84 {
		t.Errorf("persistence free run: NRMSE %v, valid for %v steps", nrmse, valid)
	}
	for name, pred := range map[string]Predictor{"oracle": oracle, "mean": flat, "persistence": last, "diverged": nanPred} {
		checkValidTime(t, f, name, pred)
	}
}

// checkValidTime checks that ValidTime is FreeRun's valid time and start
// count, and that it stops predicting once every start has missed.
func checkValidTime(t *testing.T, f *Forecast, name string, pred Predictor) {
	t.Helper()
	const horizon = 200
	calls, lastMiss := 0, 0
	counted := func(x []float64, n int) []float64 { calls++; return pred(x, n) }
	_, starts, want := f.FreeRun(pred, horizon, 5, 0.4)
	fr, _ := f.newFreeRun(horizon, 5, 0.4)
	for k := 1; k <= horizon; k++ {
		fr.step(pred, k)
		if fr.missed == len(fr.starts) && lastMiss == 0 {
			lastMiss = k
		}
	}
	got, n := f.ValidTime(counted, horizon, 5, 0.4)
	if got != want || n != starts {
		t.Errorf("%s: ValidTime %v over %d starts, FreeRun %v over %d", name, got, n, want, starts)
	}
	if wantCalls := cmp.Or(lastMiss, horizon); calls != wantCalls {
		t.Errorf("%s: ValidTime predicted %d steps, want %d (every start had missed at step %d)", name, calls, wantCalls, lastMiss)
	}
}

// lookup finds where a window occurs in the series (the oracle's trick).
func lookup(z, w []float64) int {
	for s := 0; s+len(w) <= len(z); s++ {
		match := true
		for j := range w {
			if z[s+j] != w[j] {
				match = false
				break
			}
		}
		if match {
			return s
		}
	}
	panic("window not in series")
}

// Targets are what Loss compares with: L(y) = (1/B) Σ_p (y_p − target_p)²,
// so at y = 0 the loss is the mean of the squared targets, and each target
// is the normalised value right after its window.
func TestForecastTargetsAreWhatLossScores(t *testing.T) {
	f, err := NewForecast("mg", MackeyGlass().Generate(400), ForecastConfig{Window: 8, Batch: 16, Train: 0.6, Val: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	run := f.WithSeed(7)
	for trial := uint64(0); trial < 30; trial++ {
		y := run.Targets(trial)
		x := run.Inputs(trial)
		want := 0.0
		for _, v := range y {
			want += v * v
		}
		want /= float64(len(y))
		if got := run.Loss(make([]float64, len(y)), trial); got != want {
			t.Fatalf("trial %d: L(0) = %v, mean squared target %v", trial, got, want)
		}
		// Each target is the sample right after its window.
		for p := range y {
			s := run.(*forecastRun).start(trial, p)
			if !slices.Equal(x[p*8:(p+1)*8], f.z[s:s+8]) || y[p] != f.z[s+8] {
				t.Fatalf("trial %d pattern %d: target %v, want z[%d] = %v after the window", trial, p, y[p], s+8, f.z[s+8])
			}
		}
	}
}

// The training part's windows are the ones the networks learn from: every
// window whose target lies before the validation part.
func TestTrainingWindows(t *testing.T) {
	v := make([]float64, 500)
	for i := range v {
		v[i] = float64(i % 17)
	}
	f, err := NewForecast("ramp", v, DefaultForecast)
	if err != nil {
		t.Fatal(err)
	}
	x, y, n := f.Windows(Training)
	if n != f.TrainWindows() || len(y) != n || len(x) != n*DefaultForecast.Window {
		t.Fatalf("%d training windows (%d targets, %d inputs), TrainWindows %d", n, len(y), len(x), f.TrainWindows())
	}
	W := DefaultForecast.Window
	for i := 0; i+1 < n; i++ {
		if y[i] != x[(i+1)*W+W-1] { // window i+1 ends with window i's target
			t.Fatalf("window %d: target %v, next window ends with %v", i, y[i], x[(i+1)*W+W-1])
		}
	}
	if xv, _, _ := f.Windows(Validation); xv[W-1] != y[n-1] { // the first validation window ends with the last training target
		t.Errorf("the last training target %v is not the first validation window's last input %v", y[n-1], xv[W-1])
	}
}

// K steps ahead, a window's target is the value K−1 samples after the next
// one, in every part and in the training trials; there are K−1 fewer
// training windows, and no free run (it feeds one-step predictions back).
func TestForecastAhead(t *testing.T) {
	v := make([]float64, 400)
	for i := range v {
		v[i] = float64(i)
	}
	cfg := DefaultForecast
	one, err := NewForecast("ramp", v, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Ahead = 3
	f, err := NewForecast("ramp", v, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f.Ahead() != 3 || f.TrainWindows() != one.TrainWindows()-2 {
		t.Fatalf("ahead %d, %d training windows (one step: %d)", f.Ahead(), f.TrainWindows(), one.TrainWindows())
	}
	W := cfg.Window
	for _, part := range []Part{Training, Validation, Test} {
		x, y, n := f.Windows(part)
		for i := range n {
			last := f.Denormalize(x[i*W+W-1])
			if got := f.Denormalize(y[i]); math.Abs(got-(last+3)) > 1e-9 {
				t.Fatalf("part %d, window %d: last input %v, target %v, want %v", part, i, last, got, last+3)
			}
		}
	}
	run := f.WithSeed(7)
	x, y := run.Inputs(4), run.Targets(4)
	for p := range y {
		if last := f.Denormalize(x[p*W+W-1]); math.Abs(f.Denormalize(y[p])-(last+3)) > 1e-9 {
			t.Fatalf("trial 4, pattern %d: last input %v, target %v", p, last, f.Denormalize(y[p]))
		}
	}
	if nrmse, starts, _ := f.FreeRun(func(x []float64, n int) []float64 { return make([]float64, n) }, 10, 5, 0.4); !math.IsNaN(nrmse) || starts != 0 || f.Trajectory(nil, 5) != nil {
		t.Errorf("a free run of a 3-step-ahead forecast: %v from %d starts", nrmse, starts)
	}
	cfg.Ahead = -1
	if _, err := NewForecast("ramp", v, cfg); err == nil {
		t.Error("ahead -1 was accepted")
	}
}
