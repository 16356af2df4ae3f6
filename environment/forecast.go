package environment

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// ForecastConfig shapes a forecasting task.
type ForecastConfig struct {
	// Window is the number of past values the network reads (≥ 1).
	Window int
	// Batch is the number of windows per trial (≥ 1).
	Batch int
	// Train and Val are the chronological fractions of the series used for
	// training and validation; the rest is the test part. Both in (0, 1)
	// with Train + Val < 1.
	Train, Val float64
	// Ahead is how many steps ahead the target lies: from the window
	// x[s … s+W−1] predict x[s+W+Ahead−1]. 0 or 1: the next value.
	Ahead int
}

// DefaultForecast is the documented default: window 8, batches of 128,
// 60 % training, 20 % validation, 20 % test.
var DefaultForecast = ForecastConfig{Window: 8, Batch: 128, Train: 0.6, Val: 0.2}

// Forecast is forecasting of a series K = Ahead steps ahead (one step by
// default): from the window x[s … s+W−1] predict x[s+W+K−1]. With
// covariates (NewMultivariateForecast) each of the W steps of a window
// holds C values, the target's then each covariate's at that time, and the
// target alone is predicted.
// The series is split chronologically
// into training, validation and test parts (a window may reach back across a
// boundary; its target decides its part), and normalised to zero mean and
// unit variance with the training part's statistics only.
//
// Forecast is immutable and safe for concurrent use; the Task a run trains
// on comes from WithSeed.
type Forecast struct {
	name      string
	cfg       ForecastConfig
	z         []float64   // normalised series
	mean, std float64     // of the training part (series units)
	cov       [][]float64 // normalised covariates, each as long as z
	covScale  []Scale     // their training parts' mean and spread
	trainEnd  int         // first index of the validation part
	valEnd    int         // first index of the test part
}

// Scale is the mean and standard deviation by which a series was
// normalised (series units): z = (v − Mean)/Std.
type Scale struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// NewMultivariateForecast prepares target for forecasting from windows of
// the target and the covariates together (each as long as target, each
// normalised with its own training part's statistics). name is used in
// messages, names names each covariate in them.
func NewMultivariateForecast(name string, target []float64, covariates [][]float64, names []string, cfg ForecastConfig) (*Forecast, error) {
	f, err := NewForecast(name, target, cfg)
	if err != nil {
		return nil, err
	}
	for i, c := range covariates {
		if len(c) != len(target) {
			return nil, fmt.Errorf("%s: covariate %s has %d samples, the target %d", name, names[i], len(c), len(target))
		}
		z, sc, err := normalise(c, f.trainEnd)
		if err != nil {
			return nil, fmt.Errorf("%s: covariate %s: %v", name, names[i], err)
		}
		f.cov, f.covScale = append(f.cov, z), append(f.covScale, sc)
	}
	return f, nil
}

// normalise returns v normalised by the mean and spread of v[:trainEnd].
func normalise(v []float64, trainEnd int) ([]float64, Scale, error) {
	mean, std := meanStd(v[:trainEnd])
	if !(std > 0) {
		return nil, Scale{}, errors.New("the training part is constant")
	}
	z := make([]float64, len(v))
	for i, x := range v {
		z[i] = (x - mean) / std
		if math.IsInf(z[i], 0) {
			return nil, Scale{}, fmt.Errorf("sample %d (%g) overflows float64 once normalised by the training part's mean %.4g and spread %.4g; rescale the series", i+1, x, mean, std)
		}
	}
	return z, Scale{Mean: mean, Std: std}, nil
}

// NewForecast prepares a univariate series for forecasting. name is used
// in messages.
func NewForecast(name string, series []float64, cfg ForecastConfig) (*Forecast, error) {
	switch {
	case cfg.Window < 1:
		return nil, fmt.Errorf("window %d must be at least 1", cfg.Window)
	case cfg.Batch < 1:
		return nil, fmt.Errorf("batch %d must be at least 1", cfg.Batch)
	case cfg.Ahead < 0:
		return nil, fmt.Errorf("ahead %d must be at least 0 (0 or 1: the next value)", cfg.Ahead)
	case !(cfg.Train > 0) || !(cfg.Val > 0) || !(cfg.Train+cfg.Val < 1):
		return nil, fmt.Errorf("split %v/%v: the training and validation fractions must be positive and leave a test part", cfg.Train, cfg.Val)
	}
	n := len(series)
	f := &Forecast{name: name, cfg: cfg}
	f.trainEnd = int(float64(n) * cfg.Train)
	f.valEnd = int(float64(n) * (cfg.Train + cfg.Val))
	// At least two training windows and two validation and test targets.
	if need := int(math.Ceil(float64(cfg.Window+f.ahead()+1) / cfg.Train)); f.trainEnd < cfg.Window+f.ahead()+1 || f.valEnd-f.trainEnd < 2 || n-f.valEnd < 2 {
		return nil, fmt.Errorf("%s: %d samples are too few for window %d (need at least %d)", name, n, cfg.Window, max(need, cfg.Window+6, int(math.Ceil(2/cfg.Val)), int(math.Ceil(2/(1-cfg.Train-cfg.Val)))))
	}
	z, sc, err := normalise(series, f.trainEnd)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	f.z, f.mean, f.std = z, sc.Mean, sc.Std
	// NRMSE divides by the spread of a part's targets.
	for _, part := range []Part{Validation, Test} {
		if lo, hi := f.partRange(part); slices.Min(f.z[lo:hi]) == slices.Max(f.z[lo:hi]) { // its targets, without the windows
			return nil, fmt.Errorf("%s: the %s part is constant", name, map[Part]string{Validation: "validation", Test: "test"}[part])
		}
	}
	return f, nil
}

// Config returns the task's shape.
func (f *Forecast) Config() ForecastConfig { return f.cfg }

// Len returns the series length; TrainWindows the number of training windows.
func (f *Forecast) Len() int          { return len(f.z) }
func (f *Forecast) TrainWindows() int { return f.trainEnd - f.cfg.Window - f.ahead() + 1 }

// ahead is K, the steps ahead of a window's target (at least 1).
func (f *Forecast) ahead() int { return max(f.cfg.Ahead, 1) }

// Ahead returns K, the steps ahead of a window's target (1: the next value).
func (f *Forecast) Ahead() int { return f.ahead() }

// TrialsPerEpoch is the number of trials that show every training window
// once: ⌈TrainWindows / Batch⌉.
func (f *Forecast) TrialsPerEpoch() int {
	return (f.TrainWindows() + f.cfg.Batch - 1) / f.cfg.Batch
}

// TestLen is the number of samples in the test part: the longest free run
// that starts at the test part's beginning.
func (f *Forecast) TestLen() int { return len(f.z) - f.valEnd }

// Denormalize maps a normalised value back to series units.
func (f *Forecast) Denormalize(v float64) float64 { return v*f.std + f.mean }

// Scale returns the training part's mean and standard deviation (series
// units), by which every value was normalised: z = (v − mean)/std.
func (f *Forecast) Scale() (mean, std float64) { return f.mean, f.std }

// CovariateScales returns each covariate's Scale (nil for none).
func (f *Forecast) CovariateScales() []Scale { return slices.Clone(f.covScale) }

// StepWidth is the number of values of a window's step, C: 1 (the target)
// plus the covariates. The Elman network reads one step at a time.
func (f *Forecast) StepWidth() int { return 1 + len(f.cov) }

// A Forecast is itself a Task, with the batches of key 0; its methods build a
// fresh run each call (no cache), so they are safe for concurrent use but
// slow. Training runs use WithSeed.
func (f *Forecast) Name() string                         { return "forecast" }
func (f *Forecast) Patterns() int                        { return f.cfg.Batch }
func (f *Forecast) InputWidth() int                      { return f.cfg.Window * f.StepWidth() }
func (f *Forecast) OutputWidth() int                     { return 1 }
func (f *Forecast) Inputs(t uint64) []float64            { return f.WithSeed(0).Inputs(t) }
func (f *Forecast) Targets(t uint64) []float64           { return f.WithSeed(0).Targets(t) }
func (f *Forecast) Loss(out []float64, t uint64) float64 { return f.WithSeed(0).Loss(out, t) }
func (f *Forecast) LossGrad(dst, out []float64, t uint64) {
	f.WithSeed(0).LossGrad(dst, out, t)
}

// Solved is always false: a forecasting run trains for a fixed number of
// trials.
func (f *Forecast) Solved([]float64, uint64) bool { return false }

// WithSeed returns the Task one run trains on. Trial t shows batch
// t mod TrialsPerEpoch of epoch ⌊t / TrialsPerEpoch⌋; each epoch visits the
// training windows in its own random order, drawn from a PCG source seeded by
// (key, epoch), wrapping around to fill the last batch. The batches are thus a
// function of (key, trial) alone. The returned Task is not safe for concurrent
// use (it caches two epochs' orders); each run gets its own.
func (f *Forecast) WithSeed(key uint64) Task {
	return &forecastRun{Forecast: f, key: key, epoch: [2]int{-1, -1}}
}

// forecastRun embeds the Forecast for its shape (Name, Patterns,
// InputWidth, OutputWidth, Solved) and serves one run's batches.
type forecastRun struct {
	*Forecast
	key   uint64
	epoch [2]int   // cached epochs
	order [2][]int // their window orders
}

// starts returns the window start of pattern p of trial t.
func (r *forecastRun) start(t uint64, p int) int {
	tpe := uint64(r.TrialsPerEpoch())
	e, b := int(t/tpe), int(t%tpe)
	slot := e % 2
	if r.epoch[slot] != e {
		rng := rand.New(rand.NewPCG(r.key^(uint64(e)*0x9e3779b97f4a7c15), r.key+uint64(e)*0xbf58476d1ce4e5b9))
		r.order[slot] = rng.Perm(r.TrainWindows())
		r.epoch[slot] = e
	}
	order := r.order[slot]
	return order[(b*r.cfg.Batch+p)%len(order)]
}

// Inputs returns trial t's windows, [pattern][step][channel], normalised
// (a new slice each call: it is sent to the neurons, who keep it).
func (r *forecastRun) Inputs(t uint64) []float64 {
	n := r.InputWidth()
	x := make([]float64, r.cfg.Batch*n)
	for p := 0; p < r.cfg.Batch; p++ {
		r.window(x[p*n:(p+1)*n], r.start(t, p))
	}
	return x
}

// window sets dst to the window that starts at index s of the series,
// [step][channel]: at step τ the target's z[s+τ], then each covariate's.
func (f *Forecast) window(dst []float64, s int) {
	if len(f.cov) == 0 {
		copy(dst, f.z[s:s+f.cfg.Window])
		return
	}
	C := f.StepWidth()
	for tau := range f.cfg.Window {
		dst[tau*C] = f.z[s+tau]
		for c, z := range f.cov {
			dst[tau*C+1+c] = z[s+tau]
		}
	}
}

func (r *forecastRun) target(t uint64, p int) float64 {
	return r.z[r.start(t, p)+r.cfg.Window+r.ahead()-1]
}

// Targets returns trial t's targets, normalised: the value Ahead steps
// after each window, [pattern] (a new slice each call).
func (r *forecastRun) Targets(t uint64) []float64 {
	y := make([]float64, r.cfg.Batch)
	for p := range y {
		y[p] = r.target(t, p)
	}
	return y
}

// Loss returns the mean squared error of the batch's predictions
// (normalised units): (1/B) Σ_p (y_p − x[s_p+W])².
func (r *forecastRun) Loss(out []float64, t uint64) float64 {
	s := 0.0
	for p, y := range out {
		d := y - r.target(t, p)
		s += float64(d * d)
	}
	return s / float64(len(out))
}

// LossGrad sets dst[p] = 2(y_p − target_p)/B.
func (r *forecastRun) LossGrad(dst, out []float64, t uint64) {
	for p, y := range out {
		dst[p] = 2 * (y - r.target(t, p)) / float64(len(out))
	}
}

// Part selects a part of the series: its windows are those whose target
// lies in it.
type Part int

const (
	Validation Part = iota
	Test
	// Training is the part the networks learn from (its first Window
	// values are inputs only).
	Training
)

// partRange returns the indices lo … hi−1 of z that are the part's targets.
func (f *Forecast) partRange(part Part) (lo, hi int) {
	switch part {
	case Test:
		return f.valEnd, len(f.z)
	case Training:
		return f.cfg.Window + f.ahead() - 1, f.trainEnd
	}
	return f.trainEnd, f.valEnd
}

// Windows returns every window whose target lies in the part: inputs laid
// out [n][Window][StepWidth] and targets [n], normalised.
func (f *Forecast) Windows(part Part) (x, y []float64, n int) {
	lo, hi := f.partRange(part)
	W, K, width := f.cfg.Window, f.ahead(), f.InputWidth()
	n = hi - lo
	x = make([]float64, n*width)
	for i, tgt := 0, lo; tgt < hi; i, tgt = i+1, tgt+1 {
		f.window(x[i*width:(i+1)*width], tgt-K-W+1)
		y = append(y, f.z[tgt])
	}
	return x, y, n
}

// Predictor maps n windows, laid out [n][Window][StepWidth] (normalised),
// to their predictions (normalised).
type Predictor func(windows []float64, n int) []float64

// NRMSE is the root-mean-square error of pred against truth divided by the
// standard deviation of truth (0 … ∞; 1 is as good as predicting the mean).
func NRMSE(pred, truth []float64) float64 {
	se := 0.0
	for i, v := range truth {
		se += (pred[i] - v) * (pred[i] - v)
	}
	return math.Sqrt(se/float64(len(truth))) / stdDev(truth)
}

// OneStep returns the one-step NRMSE of the predictor on a part.
func (f *Forecast) OneStep(part Part, pred Predictor) float64 {
	x, y, n := f.Windows(part)
	return NRMSE(pred(x, n), y)
}

// Persistence returns the NRMSE of predicting that the target (the next
// value, or the one Ahead steps on) equals the last one seen: the floor a
// forecaster has to beat.
func (f *Forecast) Persistence(part Part) float64 {
	x, y, n := f.Windows(part)
	return NRMSE(f.Persistent()(x, n), y)
}

// Persistent is the persistence forecaster: it predicts that the target
// equals the target's value at the window's last step.
func (f *Forecast) Persistent() Predictor {
	width, C := f.InputWidth(), f.StepWidth()
	return func(x []float64, n int) []float64 {
		last := make([]float64, n)
		for i := range last {
			last[i] = x[(i+1)*width-C]
		}
		return last
	}
}

// FreeRuns reports whether the forecast can run freely: feeding a
// prediction back as the newest value needs one-step predictions of the
// whole input, so no horizon beyond 1 and no covariates.
func (f *Forecast) FreeRuns() bool { return f.ahead() == 1 && len(f.cov) == 0 }

// FreeRun starts from true test windows (one every stride samples, as long
// as the horizon stays inside the series), feeds each prediction back as the
// newest input, and returns the NRMSE of the horizon-th prediction against
// the truth (its denominator: the spread of the test part), the number of
// starts, and the mean number of steps before a prediction first misses the
// truth by more than threshold test standard deviations (capped at the
// horizon): the valid prediction time in samples. A forecast of more than
// one step ahead has no free run (NaN, 0, NaN), nor a Trajectory (nil), and
// neither has one with covariates: the network does not forecast them, so
// nothing could stand in for their future values.
func (f *Forecast) FreeRun(pred Predictor, horizon, stride int, threshold float64) (nrmse float64, starts int, valid float64) {
	fr, ok := f.newFreeRun(horizon, stride, threshold)
	if !ok {
		return math.NaN(), 0, math.NaN()
	}
	var last []float64
	for k := 1; k <= horizon; k++ {
		last = fr.step(pred, k)
	}
	se := 0.0
	for i, s := range fr.starts {
		d := last[i] - f.z[s+fr.W+horizon-1]
		se += d * d
	}
	n := len(fr.starts)
	return math.Sqrt(se/float64(n)) / fr.sd, n, fr.validSteps()
}

// ValidTime is FreeRun's valid prediction time (and number of starts)
// alone: the same value, but it stops feeding predictions back once every
// start has missed, which for a network that forecasts poorly is long
// before the horizon (each step is a whole forward pass of every start).
func (f *Forecast) ValidTime(pred Predictor, horizon, stride int, threshold float64) (valid float64, starts int) {
	fr, ok := f.newFreeRun(horizon, stride, threshold)
	if !ok {
		return math.NaN(), 0
	}
	for k := 1; k <= horizon && fr.missed < len(fr.starts); k++ {
		fr.step(pred, k)
	}
	return fr.validSteps(), len(fr.starts)
}

// freeRun is the state of free runs from several test windows at once.
type freeRun struct {
	f             *Forecast
	W, horizon    int
	sd, threshold float64 // the test part's standard deviation; a miss is an error above threshold·sd
	starts        []int   // index in z of each start's first window value
	x             []float64
	first         []int // per start, the step of its first miss (0: not yet missed)
	missed        int   // starts with a miss
}

func (f *Forecast) newFreeRun(horizon, stride int, threshold float64) (*freeRun, bool) {
	if !f.FreeRuns() {
		return nil, false
	}
	W := f.cfg.Window
	_, ytest, _ := f.Windows(Test)
	fr := &freeRun{f: f, W: W, horizon: horizon, sd: stdDev(ytest), threshold: threshold}
	for s := f.valEnd - W; s+W+horizon-1 < len(f.z); s += stride {
		fr.starts = append(fr.starts, s)
	}
	if len(fr.starts) == 0 || horizon < 1 {
		return nil, false
	}
	fr.x = make([]float64, len(fr.starts)*W)
	for i, s := range fr.starts {
		copy(fr.x[i*W:], f.z[s:s+W])
	}
	fr.first = make([]int, len(fr.starts))
	return fr, true
}

// step predicts step k of every start, records first misses, feeds the
// predictions back and returns them.
func (fr *freeRun) step(pred Predictor, k int) []float64 {
	W := fr.W
	p := pred(fr.x, len(fr.starts))
	for i, s := range fr.starts {
		// NaN (a diverged network) is a miss, not a pass.
		if fr.first[i] == 0 && !(math.Abs(p[i]-fr.f.z[s+W+k-1]) <= fr.threshold*fr.sd) {
			fr.first[i] = k
			fr.missed++
		}
		row := fr.x[i*W : (i+1)*W]
		copy(row, row[1:])
		row[W-1] = p[i]
	}
	return p
}

// validSteps is the mean number of steps before the first miss, a start
// that never missed counting the horizon.
func (fr *freeRun) validSteps() float64 {
	steps := 0.0
	for _, k := range fr.first {
		if k == 0 {
			k = fr.horizon + 1
		}
		steps += float64(k - 1)
	}
	return steps / float64(len(fr.first))
}

// Trajectory runs the predictor freely from the first test window for steps
// steps (feeding each prediction back) and returns the predictions,
// normalised; they are compared with the test part's first targets.
func (f *Forecast) Trajectory(pred Predictor, steps int) []float64 {
	if !f.FreeRuns() {
		return nil
	}
	W := f.cfg.Window
	x := append([]float64(nil), f.z[f.valEnd-W:f.valEnd]...)
	out := make([]float64, 0, steps)
	for k := 0; k < steps && f.valEnd+k < len(f.z); k++ {
		p := pred(x, 1)[0]
		out = append(out, p)
		copy(x, x[1:])
		x[W-1] = p
	}
	return out
}

// meanStd returns the mean and the population standard deviation of v,
// summed in order: m = Σv/n, s = √(Σ(v−m)²/n). For values of ordinary
// size, c = max|v| within [directMin, directMax], those sums are taken as
// written, bit for bit; beyond it they would overflow (values near ±1e308)
// or their squares would underflow (spreads below about 1e-154), so they are
// taken on v/c and scaled back, which holds every finite series. s is 0
// exactly when v is constant.
func meanStd(v []float64) (mean, std float64) {
	lo, hi := slices.Min(v), slices.Max(v)
	if lo == hi {
		return lo, 0
	}
	c := max(math.Abs(lo), math.Abs(hi))
	if c >= directMin && c <= directMax {
		return scaledMoments(v, 1)
	}
	mean, std = scaledMoments(v, c)
	return mean * c, std * c
}

// The range of max|v| in which meanStd sums directly: n values of at most
// 2^400 and their squared deviations (at most 2^802 each) cannot overflow,
// and the largest deviation, at least max|v|·2^−53 for a series that is not
// constant, squares to at least 2^−906, far from subnormal.
const (
	directMin = 0x1p-400
	directMax = 0x1p400
)

// scaledMoments is meanStd's computation on v/c (c = 1: on v itself, x/1
// being x).
func scaledMoments(v []float64, c float64) (mean, std float64) {
	for _, x := range v {
		mean += x / c
	}
	mean /= float64(len(v))
	for _, x := range v {
		d := x/c - mean
		std += d * d
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

func stdDev(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	s := 0.0
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(v)))
}
