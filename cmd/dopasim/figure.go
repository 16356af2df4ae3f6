package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// figureStyle is how a command draws its figures (--plot, and those of a
// results folder): the size, the PNG resolution and the base font size.
// The zero value is not usable; defaultFigure is gonum's defaults at 8 × 5
// inches.
type figureStyle struct {
	width, height vg.Length
	dpi           int       // PNG pixels per inch (an SVG is vector)
	font          vg.Length // axis labels; titles 1.2×, ticks and legend 0.9× (0: autoFont)
}

// autoFont is the axis-label font of a figure without --plot-font: gonum's
// 12 points at the default size or larger, and on a smaller figure 12 points
// times the square root of its linear scale against 8 × 5 inches (about 8
// points at 3.5 × 2.5), down to 6, so that the axes keep room for data.
func (s figureStyle) autoFont() vg.Length {
	scale := min(float64(s.width/defaultFigure.width), float64(s.height/defaultFigure.height))
	if scale >= 1 {
		return 0 // gonum's own sizes
	}
	return vg.Length(max(6, math.Round(12*math.Sqrt(scale)*2)/2))
}

var defaultFigure = figureStyle{width: 8 * vg.Inch, height: 5 * vg.Inch, dpi: 96}

// figureFlags are --plot-size, --plot-dpi and --plot-font as given.
type figureFlags struct {
	size string
	dpi  int
	font float64
}

// bindFigureFlags adds the figure flags to a command that draws figures.
func bindFigureFlags(fs *flag.FlagSet) *figureFlags {
	ff := &figureFlags{}
	fs.StringVar(&ff.size, "plot-size", "8x5", "figure size `WxH` in inches (1 to 40 each), e.g. 3.5x2.5 for a journal column")
	fs.IntVar(&ff.dpi, "plot-dpi", defaultFigure.dpi, "resolution of PNG figures in dots per inch (30 to 1200; SVG figures are vector)")
	fs.Float64Var(&ff.font, "plot-font", 0, "font size of axis labels in points (4 to 48; titles 1.2×, ticks and legend 0.9×; 0: gonum's defaults)")
	return ff
}

// style validates the figure flags.
func (ff *figureFlags) style() (figureStyle, error) {
	s := defaultFigure
	w, h, ok := strings.Cut(ff.size, "x")
	wi, werr := strconv.ParseFloat(w, 64)
	hi, herr := strconv.ParseFloat(h, 64)
	switch {
	case !ok || werr != nil || herr != nil:
		return s, usagef("--plot-size %q: want WxH in inches, e.g. 8x5", ff.size)
	case !(wi >= 1 && wi <= 40 && hi >= 1 && hi <= 40):
		return s, usagef("--plot-size %q: each side must be from 1 to 40 inches", ff.size)
	case ff.dpi < 30 || ff.dpi > 1200:
		return s, usagef("--plot-dpi %d: want 30 to 1200", ff.dpi)
	case ff.font != 0 && !(ff.font >= 4 && ff.font <= 48):
		return s, usagef("--plot-font %v: want 4 to 48 points, or 0", ff.font)
	}
	s.width, s.height, s.dpi, s.font = vg.Length(wi)*vg.Inch, vg.Length(hi)*vg.Inch, ff.dpi, vg.Length(ff.font)
	return s, nil
}

// figure is what one figure file holds: a plot, or plots stacked in panels
// that share the width (panels).
type figure interface {
	// plots lists the plots, for the style's fonts.
	plots() []*plot.Plot
	// Draw draws the figure onto c.
	Draw(c draw.Canvas)
}

// single is a figure of one plot.
type single struct{ *plot.Plot }

func (s single) plots() []*plot.Plot { return []*plot.Plot{s.Plot} }

// panels is plots stacked top to bottom in rows of equal height, their
// plotting areas aligned (plot.Align).
type panels []*plot.Plot

func (ps panels) plots() []*plot.Plot { return ps }

// Draw draws every panel in its row.
func (ps panels) Draw(c draw.Canvas) {
	rows := make([][]*plot.Plot, len(ps))
	for i, p := range ps {
		rows[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(ps), Cols: 1, PadY: vg.Points(6), PadBottom: vg.Points(2)}
	for i, cs := range plot.Align(rows, tiles, c) {
		ps[i].Draw(cs[0])
	}
}

// render lays fig out in the style and returns its encoding in format (png
// or svg).
func (s figureStyle) render(fig figure, format string) (io.WriterTo, error) {
	font := s.font
	if font == 0 {
		font = s.autoFont()
	}
	if font > 0 {
		for _, p := range fig.plots() {
			p.Title.TextStyle.Font.Size = 1.2 * font
			p.Title.Padding = font / 2
			for _, ax := range []*plot.Axis{&p.X, &p.Y} {
				ax.Label.TextStyle.Font.Size = font
				ax.Tick.Label.Font.Size = 0.9 * font
			}
			p.Legend.TextStyle.Font.Size = 0.9 * font
		}
	}
	switch format {
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(s.width, s.height), vgimg.UseDPI(s.dpi))
		layOut(fig, draw.New(c))
		return vgimg.PngCanvas{Canvas: c}, nil
	case "svg":
		c := vgsvg.New(s.width, s.height)
		layOut(fig, draw.New(c))
		return c, nil
	}
	return nil, fmt.Errorf("unknown figure format %q", format)
}

// save renders fig as a PNG into the file path (a results folder's
// temporary one).
func (s figureStyle) save(fig figure, path string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("render %s: %v", path, r)
		}
	}()
	wt, err := s.render(fig, "png")
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(f)
	return errors.Join(err, f.Close())
}
