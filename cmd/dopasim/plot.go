package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// plotFile is a figure that will be written atomically (see atomicFile).
type plotFile struct {
	*atomicFile
	format string
	style  figureStyle
}

// openPlot checks a --plot path and creates its temporary file beside it;
// without a path ("") there is no plot and no error. A bad extension, a
// directory, a file that cannot be written or an unwritable directory is a
// usage error.
func openPlot(path string, style figureStyle) (*plotFile, error) {
	if path == "" {
		return nil, nil
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "png" && format != "svg" {
		return nil, usagef("--plot %q: the file must end in .png or .svg", path)
	}
	f, err := createAtomic("--plot", path)
	if err != nil {
		return nil, err
	}
	return &plotFile{atomicFile: f, format: format, style: style}, nil
}

// discard removes the temporary file unless it was committed; it is safe to
// defer right after openPlot.
func (f *plotFile) discard() {
	if f != nil {
		f.atomicFile.discard()
	}
}

// commit writes the plot to the temporary file and renames it onto the path.
// A panic while rendering is returned as an error.
func (f *plotFile) commit(fig figure) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("render %s: %v", f.path, r)
		}
		if err != nil {
			f.discard()
			err = fmt.Errorf("plot: %w", err)
		}
	}()
	wt, err := f.style.render(fig, f.format)
	if err != nil {
		return fmt.Errorf("render %s: %w", f.path, err)
	}
	if _, err = wt.WriteTo(f.atomicFile); err != nil {
		return err
	}
	return f.atomicFile.commit()
}

// draw commits a figure as built by one of the figure functions: their
// error, then the write's, is returned.
func (f *plotFile) draw(p *plot.Plot, err error) error {
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return f.commit(single{p})
}

// palette is ten colours that stay distinct side by side (the "tab10" set).
var palette = []color.NRGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255},
	{140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255}, {23, 190, 207, 255},
}

// curveSet is one optimizer's loss curves, one per seed.
type curveSet struct {
	name   string
	curves [][]float64
	dashed bool // its median dashed (told apart from a set it may overlap)
}

// lossFloor keeps log axes finite: a loss of exactly 0 is drawn at 1e-12.
const lossFloor = 1e-12

// bands returns, at each sampled trial t (x = t+1), the 25th, 50th and 75th
// percentiles of the clean loss over the seeds. A run that ended before t
// (it solved, diverged or hit the cap) contributes its last loss; a NaN or
// infinite loss counts as 1, the largest MSE of sigmoid outputs. Trials are
// sampled on a logarithmic grid of about 300 points.
func bands(cs curveSet) (lo, mid, hi plotter.XYs) {
	T := 0
	for _, c := range cs.curves {
		T = max(T, len(c))
	}
	var ts []int
	for i := 0; i < 300; i++ {
		t := int(math.Round(math.Pow(float64(T), float64(i)/299))) - 1
		if len(ts) == 0 || t > ts[len(ts)-1] {
			ts = append(ts, t)
		}
	}
	vals := make([]float64, len(cs.curves))
	for _, t := range ts {
		for i, c := range cs.curves {
			v := c[min(t, len(c)-1)]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = 1
			}
			vals[i] = max(v, lossFloor)
		}
		slices.Sort(vals)
		x := float64(t + 1)
		lo = append(lo, plotter.XY{X: x, Y: stat.Quantile(0.25, stat.Empirical, vals, nil)})
		mid = append(mid, plotter.XY{X: x, Y: stat.Quantile(0.5, stat.Empirical, vals, nil)})
		hi = append(hi, plotter.XY{X: x, Y: stat.Quantile(0.75, stat.Empirical, vals, nil)})
	}
	return lo, mid, hi
}

// learningCurves draws each optimizer's median clean loss against the trial,
// with its inter-quartile range as a band, both axes logarithmic.
func learningCurves(title string, sets []curveSet) (*plot.Plot, error) {
	return curvesFigure(title, "trial", "clean loss (MSE)", sets)
}

// curvesFigure draws each set's median against its index from 1 (x, the
// trial or the epoch), with the inter-quartile range as a band, both axes
// logarithmic.
func curvesFigure(title, x, y string, sets []curveSet) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = logTicks{}, logTicks{}

	type band struct{ lo, mid, hi plotter.XYs }
	bs := make([]band, len(sets))
	// Explicit ranges: left to itself, a log axis over a single value (one
	// trial, or a loss that never moves) is widened to 0 and panics.
	xmax, ymin, ymax := 10.0, math.Inf(1), math.Inf(-1)
	for i, cs := range sets {
		if len(cs.curves) == 0 {
			continue
		}
		b := &bs[i]
		b.lo, b.mid, b.hi = bands(cs)
		for j := range b.lo {
			xmax = max(xmax, b.lo[j].X)
			ymin, ymax = min(ymin, b.lo[j].Y), max(ymax, b.hi[j].Y)
		}
	}
	if math.IsInf(ymin, 0) { // no curves at all
		ymin, ymax = lossFloor, 1
	}
	p.X.Min, p.X.Max = 1, xmax
	p.Y.Min, p.Y.Max = ymin/1.5, max(ymax*1.5, ymin*10)

	for i, cs := range sets {
		b := bs[i]
		if b.mid == nil {
			continue
		}
		ring := append(plotter.XYs(nil), b.lo...)
		for j := len(b.hi) - 1; j >= 0; j-- {
			ring = append(ring, b.hi[j])
		}
		poly, err := plotter.NewPolygon(ring)
		if err != nil {
			return nil, err
		}
		c := palette[i%len(palette)]
		poly.Color = color.NRGBA{R: c.R, G: c.G, B: c.B, A: 50}
		poly.LineStyle.Width = 0
		line, err := plotter.NewLine(b.mid)
		if err != nil {
			return nil, err
		}
		line.Color = c
		line.Width = vg.Points(1.5)
		if cs.dashed {
			line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		p.Add(poly, line)
		p.Legend.Add(cs.name, line)
	}
	return p, nil
}

// sweepFigure draws a one-axis sweep: the median and 90th percentile of the
// trials to solve against the parameter (log scale; a point whose statistic
// lands on an unsolved seed is left out), each median labelled with the
// share of seeds solved. A log x axis is used when every value is positive
// and they span more than a factor of ten.
func sweepFigure(title, param string, xs []float64, rows []sweepRow) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = param
	p.Y.Label.Text = "trials to solve"
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	xmin, xmax := slices.Min(xs), slices.Max(xs)
	if xmin > 0 && xmax > 10*xmin {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	var med, p90 plotter.XYs
	var labels plotter.XYLabels
	for i, r := range rows {
		if r.TrialsMedian != nil {
			y := math.Max(*r.TrialsMedian, 1)
			med = append(med, plotter.XY{X: xs[i], Y: y})
			labels.XYs = append(labels.XYs, plotter.XY{X: xs[i], Y: y})
			labels.Labels = append(labels.Labels, fmt.Sprintf("%.0f%%", 100*r.SuccessRate))
		}
		if r.TrialsP90 != nil {
			p90 = append(p90, plotter.XY{X: xs[i], Y: math.Max(*r.TrialsP90, 1)})
		}
	}
	if len(med) == 0 {
		return nil, fmt.Errorf("no point of the sweep has a median (no setting solved half its seeds)")
	}
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, pt := range append(slices.Clone(med), p90...) {
		ymin, ymax = min(ymin, pt.Y), max(ymax, pt.Y)
	}
	p.X.Min, p.X.Max = xmin, max(xmax, xmin+1)
	p.Y.Min, p.Y.Max = ymin/1.5, max(ymax*2, ymin*10)
	for i, series := range []struct {
		name string
		xys  plotter.XYs
	}{{"median", med}, {"90th percentile", p90}} {
		if len(series.xys) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(series.xys)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color = palette[i], palette[i]
		line.Width = vg.Points(1.5)
		p.Add(line, points)
		p.Legend.Add(series.name, line, points)
	}
	lab, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].YAlign, lab.TextStyle[i].XAlign = 0.5, -0.5 // just above the point
	}
	p.Add(lab)
	return p, nil
}

// wholeTicks are gonum/plot's default ticks, labelled without the decimals
// of an axis whose values are whole numbers (samples, trials): "250", not
// "250.00".
type wholeTicks struct{}

func (wholeTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}

// logTicks are gonum/plot's log-axis ticks (powers of ten labelled), with
// the 2× and 5× ticks labelled too when fewer than three powers of ten
// fall on the axis, so that a log axis over a decade or two still reads.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.LogTicks{Prec: -1}.Ticks(min, max)
	labelled := 0
	for _, t := range ts {
		if t.Label != "" && t.Value >= min && t.Value <= max {
			labelled++
		}
	}
	if labelled >= 3 {
		return ts
	}
	for i, t := range ts {
		if t.Label != "" || !(t.Value > 0) || t.Value < min || t.Value > max {
			continue
		}
		m := t.Value / math.Pow(10, math.Floor(math.Log10(t.Value)))
		if math.Abs(m-2) < 1e-9 || math.Abs(m-5) < 1e-9 {
			ts[i].Label = strconv.FormatFloat(t.Value, 'f', -1, 64) // 5000 and 0.05, not 5e+03
		}
	}
	return ts
}
