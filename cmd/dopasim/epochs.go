package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
)

// Per-epoch curves of a chaos results folder (epochs.csv, epochs.png), as
// deep-learning tools draw them: the training loss is the mean of the
// epoch's trials' clean batch losses (from the trials' trace, so it costs
// nothing), the validation loss is the network's at the end of the epoch,
// from the run's checkpoints (sim.Checkpoints; the last epoch's from its
// final weights), one forward pass over the validation part an epoch.

// epochPoint is one epoch's scores, in normalised units: the training
// loss (MSE; NaN until trainLosses fills it), and the validation part's MSE
// and one-step NRMSE.
type epochPoint struct {
	epoch             int
	trial             uint64 // the epoch's last trial
	train, val, nrmse float64
}

// epochScorer scores a network's parameters on a forecast's validation
// windows (x, y, n: Forecast.Windows, laid out once; the same predictor as
// the final scores). Read-only: the seeds' runs share it.
type epochScorer struct {
	cfg  sim.Config
	x, y []float64
	n    int
}

func (s epochScorer) score(epoch int, trial uint64, params []float64) epochPoint {
	x, y, n := s.x, s.y, s.n
	pred := reference.Predictor(s.cfg, params)(x, n)
	mse := 0.0
	for i, v := range y {
		mse += (pred[i] - v) * (pred[i] - v)
	}
	return epochPoint{epoch: epoch, trial: trial, train: math.NaN(), val: mse / float64(n), nrmse: environment.NRMSE(pred, y)}
}

// trainLosses sets each point's training loss: the mean clean loss of its
// epoch's trials, every trials per epoch (trace: the run's trials, nil
// when the results folder keeps none).
func trainLosses(points []epochPoint, trace []trialPoint, every int) {
	for i := range points {
		lo, hi := (points[i].epoch-1)*every, points[i].epoch*every
		if hi > len(trace) {
			continue
		}
		sum := 0.0
		for _, tp := range trace[lo:hi] {
			sum += tp.loss
		}
		points[i].train = sum / float64(every)
	}
}

// keepEpochs makes p score every epoch for a results folder dir, unless its
// engine cannot take checkpoints (then a warning says epochs.csv and
// epochs.png are left out, and why).
func keepEpochs(p *plan, fc *environment.Forecast, dir string) {
	if dir == "" || p.epochTrials < 1 {
		return
	}
	cfg := p.cfg
	cfg.Checkpoints = sim.Checkpoints{Every: uint64(p.epochTrials), Take: func(uint64, uint64, []float64) {}}
	if p.engine == "actors" {
		if err := p.opt.Validate(cfg); err != nil {
			p.warnings = append(p.warnings, fmt.Sprintf("--out %s: epochs.csv and epochs.png are left out: %v", dir, err))
			return
		}
	}
	x, y, n := fc.Windows(environment.Validation)
	p.epochs = &epochScorer{cfg: p.cfg, x: x, y: y, n: n}
}

// checkpoints returns the checkpoints of one seed's run that append its
// epochs to points (a run's calls never overlap; points is read after it).
func (s *epochScorer) checkpoints(every uint64, points *[]epochPoint) sim.Checkpoints {
	return sim.Checkpoints{Every: every, Take: func(_, trial uint64, params []float64) {
		*points = append(*points, s.score(int((trial+1)/every), trial, params))
	}}
}

// finish adds the last epoch of run r, from its final weights, if it ran
// all its trials.
func (s *epochScorer) finish(r sim.Result, every uint64, points []epochPoint) []epochPoint {
	if r.Trials != s.cfg.MaxTrials || r.End == sim.Diverged {
		return points
	}
	return append(points, s.score(int(r.Trials/every), r.Trials-1, r.Params))
}

// seedEpochs is one seed's epochs.
type seedEpochs struct {
	seed   uint64
	points []epochPoint
}

// batchEpochs pairs a batch's epochs with their seeds, with their training
// losses from the batch's traces (nil if p scored none).
func batchEpochs(p plan, b batch) []seedEpochs {
	if p.epochs == nil {
		return nil
	}
	var out []seedEpochs
	for i, r := range b.results {
		if p.trace {
			trainLosses(b.epochs[i], b.traces[i], p.epochTrials)
		}
		out = append(out, seedEpochs{seed: r.Seed, points: b.epochs[i]})
	}
	return out
}

// epochColumns are epochs.csv's: the seed, the epoch (from 1), its last
// trial, the mean clean training loss of its trials and the validation
// part's MSE at its end (both in normalised units: the series' training
// part has variance 1), and that part's one-step NRMSE (1: as good as the
// mean). train_mse is NaN when the folder keeps no trace of the trials.
var epochColumns = []string{"seed", "epoch", "trial", "train_mse", "val_mse", "val_nrmse"}

// writeEpochs writes epochs.csv and epochs.png into dir.
func writeEpochs(dir string, files outFiles) error {
	f, err := os.Create(filepath.Join(dir, "epochs.csv"))
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	cw := csv.NewWriter(bw)
	cw.Write(epochColumns)
	train, val := curveSet{name: "training (mean over the epoch)"}, curveSet{name: "validation (at the epoch's end)", dashed: true}
	for _, s := range files.epochs {
		seed := strconv.FormatUint(s.seed, 10)
		var tc, vc []float64
		for _, p := range s.points {
			cw.Write([]string{seed, strconv.Itoa(p.epoch), strconv.FormatUint(p.trial, 10), cell(p.train), cell(p.val), cell(p.nrmse)})
			if !math.IsNaN(p.train) {
				tc = append(tc, p.train)
			}
			vc = append(vc, p.val)
		}
		train.curves, val.curves = append(train.curves, tc), append(val.curves, vc)
	}
	cw.Flush()
	if err := errors.Join(cw.Error(), bw.Flush(), f.Close()); err != nil {
		return err
	}
	sets := []curveSet{val}
	if len(train.curves) > 0 && len(train.curves[0]) > 0 {
		sets = []curveSet{train, val}
	}
	fig, err := curvesFigure(files.epochTitle, "epoch", "loss (MSE, normalised units)", sets)
	if err != nil {
		return err
	}
	return files.style.save(single{fig}, filepath.Join(dir, "epochs.png"))
}
