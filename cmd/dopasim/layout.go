package main

import (
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// layOut draws fig onto c with every title fitted to the width and every
// legend outside the data: in a column to the right of the plotting areas
// when it takes at most rightLegendShare of the width, else in a band
// below them, so that no legend covers a curve at any figure size.
func layOut(fig figure, c draw.Canvas) {
	legends, width, height := takeLegends(fig.plots())
	pad := vg.Points(8)
	var area draw.Canvas // the legends'
	switch {
	case len(legends) == 0:
	case width <= rightLegendShare*(c.Max.X-c.Min.X):
		area = c
		area.Min.X = c.Max.X - width
		c.Max.X = area.Min.X - pad
	default:
		area = c
		area.Max.Y = c.Min.Y + height
		area.Min.X += pad
		c.Min.Y = area.Max.Y + pad/2
	}
	for _, p := range fig.plots() {
		fitTitle(p, c.Max.X-c.Min.X)
	}
	fig.Draw(c)
	if len(legends) > 0 {
		if area.Max.Y == c.Max.Y { // the column on the right starts below the title
			area.Max.Y -= titleHeight(fig.plots()[0]) + pad
		}
		drawLegends(legends, area)
	}
}

// rightLegendShare is the widest a legend column to the right of the data
// may be, as a share of the figure's width; a wider legend goes below.
const rightLegendShare = 0.3

// takeLegends moves the plots' legends out of them (each plot keeps an
// empty one) and returns those with entries, with the width of the widest
// and their heights summed.
func takeLegends(ps []*plot.Plot) (legends []plot.Legend, width, height vg.Length) {
	for _, p := range ps {
		lg := p.Legend
		r := lg.Rectangle(draw.Canvas{})
		p.Legend = plot.NewLegend()
		p.Legend.TextStyle = lg.TextStyle
		if w := r.Max.X - r.Min.X; w > 0 {
			lg.Top, lg.Left, lg.XOffs, lg.YOffs = true, true, 0, 0
			legends = append(legends, lg)
			width = max(width, w)
			height += legendHeight(lg)
		}
	}
	return legends, width, height
}

// legendHeight is the height lg takes drawn from the top of an area: its
// entries and the descent below the last one.
func legendHeight(lg plot.Legend) vg.Length {
	r := lg.Rectangle(draw.Canvas{})
	return r.Max.Y - r.Min.Y + lg.TextStyle.FontExtents().Descent
}

// drawLegends stacks the legends from the top of area, icons on the left.
func drawLegends(legends []plot.Legend, area draw.Canvas) {
	for _, lg := range legends {
		lg.Draw(area)
		area.Max.Y -= legendHeight(lg)
	}
}

// titleHeight is the height the plot's title takes above its axes (0 with
// no title).
func titleHeight(p *plot.Plot) vg.Length {
	if p.Title.Text == "" {
		return 0
	}
	return p.Title.TextStyle.Height(p.Title.Text) + p.Title.Padding
}

// fitTitle makes p's title fit width: if it is wider, it is broken into two
// lines at the separator (", ", ": ", " (") nearest its middle, and if a
// line is still wider, its font shrinks until it fits (to minTitleFont at
// the least).
func fitTitle(p *plot.Plot, width vg.Length) {
	sty := &p.Title.TextStyle
	room := width - 2*p.Title.Padding
	if p.Title.Text == "" || sty.Width(p.Title.Text) <= room {
		return
	}
	if !strings.Contains(p.Title.Text, "\n") {
		p.Title.Text = breakTitle(p.Title.Text)
	}
	if w := sty.Width(p.Title.Text); w > room {
		sty.Font.Size = max(minTitleFont, vg.Length(math.Floor(float64(sty.Font.Size*room/w))))
	}
}

// minTitleFont is the smallest font fitTitle shrinks a title to.
const minTitleFont = vg.Length(5)

// breakTitle breaks t after the separator nearest its middle; t is
// returned whole if it has none.
func breakTitle(t string) string {
	best := -1
	for _, sep := range []string{", ", ": ", " ("} {
		for i := 0; i < len(t); {
			k := strings.Index(t[i:], sep)
			if k < 0 {
				break
			}
			at := i + k + len(sep)
			if sep == " (" {
				at = i + k + 1 // the parenthesis starts the second line
			}
			if best < 0 || abs(at-len(t)/2) < abs(best-len(t)/2) {
				best = at
			}
			i = i + k + len(sep)
		}
	}
	if best < 0 {
		return t
	}
	return strings.TrimRight(t[:best], " ") + "\n" + t[best:]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
