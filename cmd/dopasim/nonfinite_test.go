package main

import (
	"encoding/json"
	"math"
	"testing"
)

// One convention for non-finite numbers in every JSON dopasim writes: a
// value the arithmetic made non-finite is "NaN", "+Inf" or "-Inf", as in
// the message log; null is only for a statistic that has no value.
func TestNonFiniteJSON(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		v    any
		want string
	}{
		{num(1.5), `1.5`},
		{num(nan), `"NaN"`},
		{num(inf), `"+Inf"`},
		{num(-inf), `"-Inf"`},
		{statNum(0.25), `0.25`},
		{statNum(nan), `null`},
		{statNum(inf), `"+Inf"`},
		{statNum(-inf), `"-Inf"`},
		{spread{Median: statNum(inf), IQR: statNum(nan), CI: [2]statNum{3, statNum(inf)}}, `{"median":"+Inf","iqr":null,"median_ci95":[3,"+Inf"]}`},
	} {
		b, err := json.Marshal(c.v)
		if err != nil || string(b) != c.want {
			t.Errorf("%#v: %s (%v), want %s", c.v, b, err, c.want)
		}
	}
	// A statistic of trials to solve that lands on an unsolved seed is
	// censored (null); one of errors that diverged is "+Inf".
	inf2 := []float64{1, 2, inf, inf, inf}
	if s := spreadOf(inf2, 1); !math.IsNaN(float64(s.Median)) || !math.IsNaN(float64(s.IQR)) {
		t.Errorf("trials spread %+v: want a censored median and IQR", s)
	}
	if s := errorSpread(inf2, 1); !math.IsInf(float64(s.Median), 1) {
		t.Errorf("error spread %+v: want an infinite median", s)
	}
	// A forecast whose predictions are not numbers scores +Inf, not NaN.
	if s := errorScore(nan); !math.IsInf(float64(s), 1) {
		t.Errorf("errorScore(NaN) = %v, want +Inf", s)
	}
}
