package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var inf = math.Inf(1)

// Quantiles as numpy.quantile computes them by default (linear
// interpolation between order statistics).
func TestQuantiles(t *testing.T) {
	for _, c := range []struct {
		x        []float64
		median   float64
		q25, q75 float64
		iqr      float64
		desc     string
	}{
		{[]float64{3, 1, 2}, 2, 1.5, 2.5, 1, "odd count"},
		{[]float64{4, 1, 3, 2}, 2.5, 1.75, 3.25, 1.5, "even count: the mean of the middle two"},
		{[]float64{1, 2, 3, 4, 10}, 3, 2, 4, 2, "numpy.quantile([1,2,3,4,10], [.25,.5,.75])"},
		{[]float64{7}, 7, 7, 7, 0, "one value"},
		{[]float64{1, 2, inf, inf}, inf, 1.75, inf, inf, "unsolved runs are slower than any"},
	} {
		if got := Median(c.x); got != c.median {
			t.Errorf("%s: median %v, want %v", c.desc, got, c.median)
		}
		if q25, q75 := Quantile(c.x, 0.25), Quantile(c.x, 0.75); q25 != c.q25 || q75 != c.q75 {
			t.Errorf("%s: quartiles %v %v, want %v %v", c.desc, q25, q75, c.q25, c.q75)
		}
		if got := IQR(c.x); got != c.iqr {
			t.Errorf("%s: IQR %v, want %v", c.desc, got, c.iqr)
		}
	}
	if !math.IsNaN(Median(nil)) || !math.IsNaN(Quantile([]float64{1}, 1.5)) {
		t.Error("no values, or q outside [0, 1], must be NaN")
	}
}

// The sign test is the exact binomial: 9 wins to 1 is 2·11/1024.
func TestSignTest(t *testing.T) {
	for _, c := range []struct {
		k, m int
		want float64
	}{{9, 1, 22.0 / 1024}, {10, 0, 2.0 / 1024}, {5, 5, 1}, {0, 0, 1}, {1, 0, 1}, {3, 12, 2 * (1 + 15 + 105 + 455) / 32768.0}} {
		if got := signTest(c.k, c.m); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%d : %d: p %v, want %v", c.k, c.m, got, c.want)
		}
	}
}

// The signed-rank test's exact p-values, as scipy.stats.wilcoxon gives
// them, and its normal approximation close to the exact value where both
// apply.
func TestWilcoxon(t *testing.T) {
	for _, c := range []struct {
		d    []float64
		w, p float64
	}{
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0, 2.0 / 1024},            // b better on every seed
		{[]float64{-1, 2, 3, -4, 5}, 5, 0.625},                               // wilcoxon([-1,2,3,-4,5]): statistic 5, p 0.625
		{[]float64{-1, -2, -3, -4, -5, -6, -7, -8, -9, -10}, 55, 2.0 / 1024}, // a better on every seed
	} {
		w, p := wilcoxon(c.d)
		if w != c.w || math.Abs(p-c.p) > 1e-12 {
			t.Errorf("%v: W %v p %v, want %v %v", c.d, w, p, c.w, c.p)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 20 {
		d := make([]float64, exactWilcoxonMax)
		for i := range d {
			d[i] = (float64(i) + 1 + rng.Float64()*0.5) * float64(1-2*rng.IntN(2)) // distinct |d|
			if trial%2 == 0 && i < 8 {
				d[i] = math.Abs(d[i]) // some lopsided samples
			}
		}
		w, exact := wilcoxon(d)
		mean, sd := float64(25*26)/4, math.Sqrt(float64(25*26*51)/24)
		approx := math.Min(1, math.Erfc(math.Max(0, math.Abs(w-mean)-0.5)/sd/math.Sqrt2))
		if math.Abs(exact-approx) > 0.01 {
			t.Errorf("n 25, W %v: exact p %v, normal %v", w, exact, approx)
		}
	}
}

// Compare pairs the seeds: ties (both unsolved included) are dropped, and
// the tests see only the others.
func TestCompare(t *testing.T) {
	a := []float64{10, 20, inf, 30, 5, 6, 7, 8, 9, 11, 12}
	b := []float64{12, 25, inf, 31, 9, 6, 10, 12, 14, 17, inf}
	p, err := Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Wins != 9 || p.Losses != 0 || p.Ties != 2 || math.Abs(p.SignP-2.0/512) > 1e-12 {
		t.Errorf("%+v", p)
	}
	if !(p.WilcoxonP < 0.01) || p.W != 45 {
		t.Errorf("Wilcoxon W %v p %v", p.W, p.WilcoxonP)
	}
	if back, _ := Compare(b, a); back.Wins != 0 || back.Losses != 9 || back.SignP != p.SignP || back.WilcoxonP != p.WilcoxonP || back.W != 0 {
		t.Errorf("swapped: %+v", back)
	}
	if _, err := Compare(a, b[:3]); err != ErrUnpaired {
		t.Errorf("different lengths: %v", err)
	}
}

// Holm's adjustment: the smallest p-value times m, the next times m − 1,
// each at least the one before.
func TestHolm(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, 0.03})
	for i, want := range []float64{0.03, 0.06, 0.06} {
		if math.Abs(got[i]-want) > 1e-12 {
			t.Errorf("Holm %v, want [0.03 0.06 0.06]", got)
		}
	}
	if got := Holm([]float64{0.5, 0.9}); got[0] != 1 || got[1] != 1 {
		t.Errorf("capped at 1: %v", got)
	}
}

// The bootstrap interval holds the sample median, narrows as the sample
// grows, is a point for constant data, and repeats for the same source.
func TestMedianCI(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	widths := map[int]float64{}
	for _, n := range []int{10, 1000} {
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		lo, hi := MedianCI(x, 0.95, rand.NewPCG(7, 7))
		if m := Median(x); !(lo <= m && m <= hi) {
			t.Errorf("n %d: median %v outside [%v, %v]", n, m, lo, hi)
		}
		lo2, hi2 := MedianCI(x, 0.95, rand.NewPCG(7, 7))
		if lo2 != lo || hi2 != hi {
			t.Errorf("n %d: the same source gave [%v, %v] and [%v, %v]", n, lo, hi, lo2, hi2)
		}
		widths[n] = hi - lo
	}
	// The median's standard error shrinks as 1/√n: 10× for 100× the seeds.
	if !(widths[1000] < widths[10]/4) {
		t.Errorf("widths %v", widths)
	}
	if lo, hi := MedianCI([]float64{3, 3, 3}, 0.95, rand.NewPCG(1, 2)); lo != 3 || hi != 3 {
		t.Errorf("constant data: [%v, %v]", lo, hi)
	}
}

func ExampleCompare() {
	// Trials to solve XOR on the same 10 seeds; +Inf: not solved.
	dopamine := []float64{150, 162, 140, 171, 155, 149, 158, 133, 166, 152}
	wp := []float64{290, 301, 250, math.Inf(1), 280, 310, 299, 260, 275, 140}
	p, _ := Compare(dopamine, wp)
	fmt.Printf("wins %d, losses %d; sign test p = %.4f, Wilcoxon p = %.4f\n", p.Wins, p.Losses, p.SignP, p.WilcoxonP)
	fmt.Printf("median %v, IQR %v\n", Median(dopamine), IQR(dopamine))
	// Output:
	// wins 9, losses 1; sign test p = 0.0215, Wilcoxon p = 0.0039
	// median 153.5, IQR 11.75
}
