package main

import (
	"fmt"
	"io"
	"math"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/baseline"
	"github.com/dopasim/dopasim/synapse"
)

// forecastScores are a predictor's scores on a forecast's held-out parts:
// one-step NRMSE on the validation and test parts, the free-running NRMSE
// at the horizon and, for a system with a known Lyapunov exponent, the
// valid prediction time in Lyapunov times.
type forecastScores struct {
	NRMSEVal  statNum  `json:"nrmse_1step_val"`
	NRMSETest statNum  `json:"nrmse_1step"`
	NRMSEFree statNum  `json:"nrmse_free"`
	ValidTime *statNum `json:"valid_time_lyapunov,omitempty"`
}

// errorScore is an NRMSE as a score: a predictor whose forecasts are not
// numbers (a diverged network) has an infinite error, not an undefined one.
func errorScore(nrmse float64) statNum {
	if math.IsNaN(nrmse) {
		return statNum(math.Inf(1))
	}
	return statNum(nrmse)
}

// score scores pred on fc, a forecast of sys.
func score(fc *environment.Forecast, sys environment.System, pred environment.Predictor, horizon int) forecastScores {
	s := forecastScores{
		NRMSEVal:  errorScore(fc.OneStep(environment.Validation, pred)),
		NRMSETest: errorScore(fc.OneStep(environment.Test, pred)),
	}
	if !fc.FreeRuns() { // no free run, nor a valid time: they feed one-step predictions back
		s.NRMSEFree = statNum(math.NaN()) // does not apply: null
		return s
	}
	free, _, _ := fc.FreeRun(pred, horizon, freeRunStride, validThreshold)
	s.NRMSEFree = errorScore(free)
	if sys.Lyapunov > 0 {
		// Followed for 20 Lyapunov times, or half the test part, so that
		// the mean is over many starts.
		steps := min(int(math.Ceil(validLyapunovTimes/(sys.Lyapunov*sys.Sample))), fc.TestLen()/2)
		valid, _ := fc.ValidTime(pred, steps, freeRunStride, validThreshold)
		vt := statNum(valid * sys.Sample * sys.Lyapunov)
		s.ValidTime = &vt
	}
	return s
}

// baselineJSON is a closed-form baseline's scores, on the same split and
// windows as the trained networks (package environment/baseline).
type baselineJSON struct {
	// Name is persistence, ar (linear autoregression on the window) or esn
	// (a fixed random reservoir of the network's size with a ridge
	// readout).
	Name string `json:"name"`
	// Window is an AR's order (the window's length), Units an ESN's
	// reservoir size.
	Window int `json:"order,omitempty"`
	Units  int `json:"units,omitempty"`
	// Ridges are the ridge penalties chosen on the validation part (an ESN:
	// one per seed's reservoir).
	Ridges []float64 `json:"ridges,omitempty"`
	forecastScores
}

// baselines fits and scores the baselines of a chaos command: persistence,
// the autoregression of the window's order and an echo state network of
// hidden units, one reservoir per seed (from the seed's baseline stream),
// whose scores are the medians over seeds (a non-finite score counts as
// the worst).
func baselines(fc *environment.Forecast, sys environment.System, horizon, hidden int, seeds []uint64) ([]baselineJSON, error) {
	out := []baselineJSON{{Name: "persistence", forecastScores: score(fc, sys, fc.Persistent(), horizon)}}
	ar, err := baseline.AR(fc)
	if err != nil {
		return nil, fmt.Errorf("the autoregression baseline: %v", err)
	}
	out = append(out, baselineJSON{Name: "ar", Window: fc.Config().Window, Ridges: []float64{ar.Ridge}, forecastScores: score(fc, sys, ar.Predict, horizon)})
	esn := baselineJSON{Name: "esn", Units: hidden}
	var per []forecastScores
	for _, seed := range seeds {
		fit, err := baseline.ESN(fc, baseline.ESNConfig{Units: hidden}, synapse.NewSource(synapse.Key(seed, synapse.StreamBaseline, 0)))
		if err != nil {
			return nil, fmt.Errorf("the echo-state baseline, seed %d: %v", seed, err)
		}
		esn.Ridges = append(esn.Ridges, fit.Ridge)
		per = append(per, score(fc, sys, fit.Predict, horizon))
	}
	esn.forecastScores = medianScores(per)
	return append(out, esn), nil
}

// medianScores is the ordinary median of each score over runs (the mean of
// the two middle values of an even count; a diverged run scores +Inf,
// errorScore), with a
// valid time if the runs have one; undefined (NaN, null in JSON) for no runs
// (interrupted before a seed finished) and for a score that does not apply.
func medianScores(runs []forecastScores) forecastScores {
	if len(runs) == 0 {
		nan := statNum(math.NaN())
		return forecastScores{NRMSEVal: nan, NRMSETest: nan, NRMSEFree: nan}
	}
	med := func(get func(forecastScores) float64) statNum {
		var v []float64
		for _, r := range runs {
			v = append(v, get(r))
		}
		return statNum(medianOf(v)) // NaN if the score does not apply
	}
	s := forecastScores{
		NRMSEVal:  med(func(r forecastScores) float64 { return float64(r.NRMSEVal) }),
		NRMSETest: med(func(r forecastScores) float64 { return float64(r.NRMSETest) }),
		NRMSEFree: med(func(r forecastScores) float64 { return float64(r.NRMSEFree) }),
	}
	if runs[0].ValidTime != nil {
		vt := med(func(r forecastScores) float64 { return float64(*r.ValidTime) })
		s.ValidTime = &vt
	}
	return s
}

// printBaselines writes the baselines' scores under the trained network's.
func printBaselines(w io.Writer, out chaosJSON) {
	net := forecastScores{NRMSEVal: out.NRMSEVal, NRMSETest: out.NRMSETest, NRMSEFree: out.NRMSEFree, ValidTime: out.ValidTime}
	name := "trained network (" + out.Optimizer + ")"
	if out.Seeds > 1 {
		name = fmt.Sprintf("trained network (%s, median of %d)", out.Optimizer, out.Seeds)
	}
	printBaselineRows(w, out.Horizon, out.ValidTime != nil, &namedScores{name, net}, out.Baselines)
}

// namedScores is a row of printBaselineRows.
type namedScores struct {
	name string
	forecastScores
}

// printBaselineRows writes the baselines' scores, under net's if not nil:
// the test NRMSE, the free-running NRMSE at horizon (0: none, for a
// forecast of more than one step ahead) and the valid time.
func printBaselineRows(w io.Writer, horizon int, validTime bool, net *namedScores, bs []baselineJSON) {
	fmt.Fprintf(w, "closed-form baselines, fitted on the same training windows (ridge chosen on the validation part):\n")
	fmt.Fprintf(w, "  %-40s %12s", "", "test NRMSE")
	if horizon > 0 {
		fmt.Fprintf(w, " %12s", fmt.Sprintf("free@%d", horizon))
	}
	if validTime {
		fmt.Fprintf(w, " %11s", "valid time")
	}
	fmt.Fprintln(w)
	row := func(name string, s forecastScores) {
		fmt.Fprintf(w, "  %-40s %12.4g", name, float64(s.NRMSETest))
		if horizon > 0 {
			fmt.Fprintf(w, " %12.4g", float64(s.NRMSEFree))
		}
		if s.ValidTime != nil {
			fmt.Fprintf(w, " %11.2f", float64(*s.ValidTime))
		}
		fmt.Fprintln(w)
	}
	if net != nil {
		row(net.name, net.forecastScores)
	}
	for _, b := range bs {
		switch b.Name {
		case "persistence":
			row("persistence (the window's last value)", b.forecastScores)
		case "ar":
			row(fmt.Sprintf("linear AR(%d), least squares", b.Window), b.forecastScores)
		case "esn":
			row(fmt.Sprintf("ESN, %d fixed random units + ridge", b.Units), b.forecastScores)
		}
	}
}
