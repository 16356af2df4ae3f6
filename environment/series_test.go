package environment

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func moments(x []float64) (lo, hi, mean, sd float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range x {
		lo, hi, mean = math.Min(lo, v), math.Max(hi, v), mean+v
	}
	mean /= float64(len(x))
	for _, v := range x {
		sd += (v - mean) * (v - mean)
	}
	return lo, hi, mean, math.Sqrt(sd / float64(len(x)))
}

func autocorr(x []float64, lag int) float64 {
	_, _, m, sd := moments(x)
	s := 0.0
	for i := 0; i+lag < len(x); i++ {
		s += (x[i] - m) * (x[i+lag] - m)
	}
	return s / float64(len(x)-lag) / (sd * sd)
}

// mgFile is the public MG-17 benchmark series (see testdata/README.md).
const mgFile = "testdata/MackeyGlass_t17.txt"

func loadMG(t *testing.T) []float64 {
	t.Helper()
	f, err := os.Open(mgFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := LoadSeries(f, mgFile, 0)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The public MG-17 file (CRLF, a blank line at the end) loads whole.
func TestLoadPublicMackeyGlass(t *testing.T) {
	v := loadMG(t)
	if len(v) != 10000 {
		t.Fatalf("%d values, want 10 000", len(v))
	}
	if v[0] != 1.220639965678425032e-01 || v[4] != -1.342215769800504943e-01 {
		t.Fatalf("first values %v", v[:5])
	}
}

// Our generator, shifted and squashed like the public file (tanh(x − 1)),
// has the file's range, mean, spread and autocorrelation.
func TestMackeyGlassMatchesThePublicSeries(t *testing.T) {
	file := loadMG(t)
	gen := MackeyGlass().Generate(10000)
	for i, x := range gen {
		gen[i] = math.Tanh(x - 1)
	}
	flo, fhi, fm, fsd := moments(file)
	glo, ghi, gm, gsd := moments(gen)
	if math.Abs(flo-glo) > 0.01 || math.Abs(fhi-ghi) > 0.01 || math.Abs(fm-gm) > 0.005 || math.Abs(fsd-gsd) > 0.005 {
		t.Errorf("file min %.4f max %.4f mean %.4f sd %.4f; generated %.4f %.4f %.4f %.4f", flo, fhi, fm, fsd, glo, ghi, gm, gsd)
	}
	for _, lag := range []int{1, 5, 10, 17, 50} {
		if a, b := autocorr(file, lag), autocorr(gen, lag); math.Abs(a-b) > 0.02 {
			t.Errorf("autocorrelation at lag %d: file %.3f, generated %.3f", lag, a, b)
		}
	}
}

// Two Lorenz trajectories 1e-9 apart separate at the documented largest
// Lyapunov exponent (≈ 0.906), averaged over several stretches of the
// attractor.
func TestLorenzLyapunovExponent(t *testing.T) {
	const h, span = 0.01, 15.0
	v := [3]float64{1, 1, 1}
	for i := 0; i < 5000; i++ {
		v = rk4(v, h, lorenz)
	}
	sum, n := 0.0, 0
	for rep := 0; rep < 20; rep++ {
		w := v
		w[0] += 1e-9
		for i := 0; i < int(span/h); i++ {
			v, w = rk4(v, h, lorenz), rk4(w, h, lorenz)
		}
		d := math.Sqrt((v[0]-w[0])*(v[0]-w[0]) + (v[1]-w[1])*(v[1]-w[1]) + (v[2]-w[2])*(v[2]-w[2]))
		sum += math.Log(d/1e-9) / span
		n++
	}
	if got := sum / float64(n); math.Abs(got-Lorenz().Lyapunov) > 0.2 {
		t.Errorf("separation rate %.3f, documented exponent %.3f", got, Lorenz().Lyapunov)
	}
}

func TestSystemsStayOnTheirAttractors(t *testing.T) {
	bounds := map[string][2]float64{"mackey-glass": {0.2, 1.5}, "lorenz": {-25, 25}, "rossler": {-15, 15}}
	for _, s := range Systems() {
		x := s.Generate(3000)
		lo, hi, _, sd := moments(x)
		b := bounds[s.Name]
		if len(x) != 3000 || lo < b[0] || hi > b[1] || sd < 0.1 {
			t.Errorf("%s: %d samples in [%v, %v], sd %v", s.Name, len(x), lo, hi, sd)
		}
		if again := s.Generate(3000); again[2999] != x[2999] {
			t.Errorf("%s is not deterministic", s.Name)
		}
		if _, err := SystemByName(s.Name); err != nil {
			t.Error(err)
		}
	}
	if _, err := SystemByName("henon"); err == nil {
		t.Error("unknown system accepted")
	}
}

func TestLoadSeries(t *testing.T) {
	cases := []struct {
		name, text string
		column     int
		want       []float64
		err        string
	}{
		{"plain", "1\n2\n3\n", 0, []float64{1, 2, 3}, ""},
		{"crlf and blank lines", "1\r\n\r\n2\r\n  \r\n", 0, []float64{1, 2}, ""},
		{"comments and header", "# made up\ntime,value\n0,1.5\n# mid\n1,2.5\n", 1, []float64{1.5, 2.5}, ""},
		{"csv column 0", "4, 5\n6, 7\n", 0, []float64{4, 6}, ""},
		{"not a number", "1\n2\nthree\n", 0, nil, "x.txt:3: \"three\" is not a number"},
		{"nan", "1\nNaN\n", 0, nil, "x.txt:2: \"NaN\" is not a finite number"},
		{"inf", "1\n+Inf\n", 0, nil, "x.txt:2: \"+Inf\" is not a finite number"},
		{"empty", "", 0, nil, "x.txt: no values"},
		{"only comments", "# a\n\n# b\n", 0, nil, "x.txt: no values"},
		{"header only", "value\n", 0, nil, "x.txt: no values"},
		{"missing column", "1,2\n3\n", 1, nil, "x.txt:2: 1 column(s), no column 1"},
		{"negative column", "1\n", -1, nil, "column -1"},
		{"byte-order mark", "\ufeff1.5\n2\n", 0, []float64{1.5, 2}, ""},
		{"out of range first value", "1e400\n2\n", 0, nil, "x.txt:1: \"1e400\" is not a finite number"},
		{"a long bad field, quoted in part", "1\n2\n" + strings.Repeat("y", 5000) + "\n", 0, nil,
			"x.txt:3: \"" + strings.Repeat("y", 40) + "…\" is not a number"},
	}
	for _, c := range cases {
		got, err := LoadSeries(strings.NewReader(c.text), "x.txt", c.column)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	}
}

func FuzzLoadSeries(f *testing.F) {
	for _, s := range []string{"1\n2\n", "a,b\n1,2\n", "# c\r\n3.5\r\n", "NaN\n", "1e400\n", ",,,\n"} {
		f.Add(s, 0)
		f.Add(s, 1)
	}
	f.Fuzz(func(t *testing.T, text string, column int) {
		v, err := LoadSeries(strings.NewReader(text), "fuzz", column)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error %q is not one line naming the source", err)
			}
			return
		}
		if len(v) == 0 {
			t.Fatal("no error and no values")
		}
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("non-finite value %v accepted", x)
			}
		}
	})
}

// A column is chosen by header name or index; a file of several columns
// without a choice is refused, its columns listed, and the column read is
// named.
func TestLoadSeriesColumn(t *testing.T) {
	csv := "# weather\ntime,temp,wind\n0,1.5,3\n1,2.5,4\n"
	for _, c := range []struct {
		text, column string
		want         []float64
		used, err    string
	}{
		{csv, "temp", []float64{1.5, 2.5}, "temp", ""},
		{csv, "2", []float64{3, 4}, "wind", ""},
		{csv, "", nil, "", "x.csv:2: 3 columns (time, temp, wind): choose one with --column NAME or INDEX (0-based)"},
		{csv, "pressure", nil, "", `x.csv:2: no column named "pressure" in the header (time, temp, wind)`},
		{csv, "-1", nil, "", "x.csv:2: column -1 must be ≥ 0"},
		{"1\n2\n", "", []float64{1, 2}, "column 0", ""},
		{"value\n1\n2\n", "", []float64{1, 2}, "value", ""},
		{"4,5\n6,7\n", "1", []float64{5, 7}, "column 1", ""},
		{"4,5\n6,7\n", "b", nil, "", `no column named "b" in the header (4, 5)`},
	} {
		got, used, err := LoadSeriesColumn(strings.NewReader(c.text), "x.csv", c.column)
		if c.err != "" {
			if err == nil || err.Error() != c.err && !strings.Contains(err.Error(), c.err) {
				t.Errorf("column %q of %q: err %v, want %q", c.column, c.text, err, c.err)
			}
			continue
		}
		if err != nil || used != c.used || !slices.Equal(got, c.want) {
			t.Errorf("column %q of %q: %v %q %v, want %v %q", c.column, c.text, got, used, err, c.want, c.used)
		}
	}
}

func FuzzLoadSeriesColumn(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "1\n2\n", "x\n1\n", "a,a\n1,2\n"} {
		for _, col := range []string{"", "0", "1", "a", "b", "-3"} {
			f.Add(s, col)
		}
	}
	f.Fuzz(func(t *testing.T, text, column string) {
		v, used, err := LoadSeriesColumn(strings.NewReader(text), "fuzz", column)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error %q is not one line naming the source", err)
			}
			return
		}
		if len(v) == 0 || used == "" {
			t.Fatalf("no error, %d values, column %q", len(v), used)
		}
	})
}

// Several columns come from the same rows, in the order asked, by name or
// index; a column asked twice, a header that names only some of them and
// an unnamed column among several are refused.
func TestLoadSeriesColumns(t *testing.T) {
	const file = "t,x,y,z\n0,1,10,100\n1,2,20,200\n# comment\n2,3,30,300\n"
	cases := []struct {
		text    string
		columns []string
		want    [][]float64
		used    []string
		err     string
	}{
		{file, []string{"x", "z", "y"}, [][]float64{{1, 2, 3}, {100, 200, 300}, {10, 20, 30}}, []string{"x", "z", "y"}, ""},
		{file, []string{"1", "y"}, [][]float64{{1, 2, 3}, {10, 20, 30}}, []string{"x", "y"}, ""},
		{"1,2\n3,4\n", []string{"1", "0"}, [][]float64{{2, 4}, {1, 3}}, []string{"column 1", "column 0"}, ""},
		{file, []string{"x", "1"}, nil, nil, "column x is chosen twice"},
		{file, []string{"x", ""}, nil, nil, "every column of several must be named or numbered"},
		{"x,1\n1,2\n", []string{"0", "1"}, nil, nil, "a header names every column"},
		{file, []string{"x", "w"}, nil, nil, `no column named "w"`},
		{"t,x,y\n0,1,2\n1,2\n", []string{"x", "y"}, nil, nil, "cols:3: 2 column(s), no column 2"},
		{"t,x,y\n0,1,nan\n", []string{"x", "y"}, nil, nil, `cols:2: "nan" is not a finite number`},
	}
	for _, c := range cases {
		got, used, err := LoadSeriesColumns(strings.NewReader(c.text), "cols", c.columns)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v of %q: error %v, want %q", c.columns, c.text, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(used, c.used) || len(got) != len(c.want) {
			t.Fatalf("%v of %q: %v %q %v, want %v %q", c.columns, c.text, got, used, err, c.want, c.used)
		}
		for k := range got {
			if !slices.Equal(got[k], c.want[k]) {
				t.Errorf("%v of %q: column %d = %v, want %v", c.columns, c.text, k, got[k], c.want[k])
			}
		}
	}
}

func FuzzLoadSeriesColumns(f *testing.F) {
	for _, s := range []string{"a,b,c\n1,2,3\n", "1,2\n3,4\n", "x,1\n1,2\n"} {
		for _, cols := range []string{"a,b", "0,1", "1,1", "a,", "c,a,b", "2,-1"} {
			f.Add(s, cols)
		}
	}
	f.Fuzz(func(t *testing.T, text, columns string) {
		cols := strings.Split(columns, ",")
		v, used, err := LoadSeriesColumns(strings.NewReader(text), "fuzz", cols)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error %q is not one line naming the source", err)
			}
			return
		}
		if len(v) != len(cols) || len(used) != len(cols) {
			t.Fatalf("%d columns asked, %d read (%q)", len(cols), len(v), used)
		}
		for k := range v {
			if len(v[k]) != len(v[0]) || len(v[k]) == 0 {
				t.Fatalf("columns of %d and %d values", len(v[0]), len(v[k]))
			}
		}
	})
}
