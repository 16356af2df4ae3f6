package main

import (
	"flag"
	"fmt"
	"math"
)

const sweepChaosUsage = `usage: dopasim sweep --task chaos [chaos flags] --set NAME=V1,V2,… [--set …] [--against NAME=V,…]

Trains the chaos command's recurrent network at every point of a grid of
settings, over the same seeds and series (each seed starting every point
from the same weights unless the point changes the network), and prints one
row per point as compare --task chaos does: the median one-step test NRMSE
over the seeds with its IQR and a 95 %% bootstrap interval (ordinary median),
the seeds that failed (worse than persistence, or diverged), the free run and
(Lorenz) the valid time, then the closed-form baselines; and the median
validation NRMSE, on which the best point is chosen: no diverged seed, then
the lowest validation median (the rule behind every forecasting default;
the test part is never used to choose). --against NAME=V,… tests every other point against that
one, paired over the seeds. Settable: %s.

Flags:
`

// cmdSweepChaos is sweep --task chaos.
func cmdSweepChaos(e *env, args []string) error {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	f, cf := bindChaosFlags(fs)
	var axes setList
	fs.Var(&axes, "set", "NAME=V1,V2,…: a grid axis (repeatable)")
	fs.String("task", "chaos", "task to sweep (chaos here; xor is the other)")
	format := fs.String("format", "table", "output format: table or json")
	against := fs.String("against", "", "test every point against this one, NAME=V[,NAME=V…] of the grid, paired over the seeds (sign test, Wilcoxon signed-rank, Holm-corrected)")
	if err := parse(fs, f, args, e, fmt.Sprintf(sweepChaosUsage, sweepParamNames())); err != nil {
		return err
	}
	for _, name := range []string{"preset", "plot"} {
		if f.set[name] {
			return usagef("sweep --task chaos: --%s does not apply", name)
		}
	}
	if err := jsonFlag(f, cf.asJSON, format); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usagef("--format: unknown format %q (want table or json)", *format)
	}
	pts, err := gridOf(axes)
	if err != nil {
		return err
	}
	if *against != "" {
		if *against, err = gridPoint(axes, pts, *against); err != nil {
			return err
		}
	}
	setups := make([]chaosSetup, len(pts))
	for i, pt := range pts {
		g := pointFlags(f, axes, pt)
		c := *cf
		if setups[i], err = resolveChaosFlags(&g, &c, nil); err != nil {
			return usagef("sweep point %s: %v", pointText(axes, pt), err)
		}
		setups[i].p.label = pointText(axes, pt)
	}
	return runCompareChaos(e, setups, *format, *against, true)
}

// bestPoint is the sweep rule of forecasting: among the rows with no
// diverged seed, the lowest median validation NRMSE (the test part is for
// the held-out comparison, never for choosing); "" if every row diverged.
func bestPoint(rows []compareChaosRow) string {
	best, median := "", math.Inf(1)
	for _, r := range rows {
		if m := float64(r.ValMedian); r.Diverged == 0 && m < median {
			best, median = r.name(), m
		}
	}
	return best
}
