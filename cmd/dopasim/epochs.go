package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
)

// Per-epoch curves of a chaos results folder (epochs.csv, epochs.png): at
// the end of every epoch, the network's one-step NRMSE on every training
// window and on the validation part, from the run's checkpoints
// (sim.Checkpoints), the last epoch's from its final weights.

// epochPoint is one epoch's scores.
type epochPoint struct {
	epoch      int
	trial      uint64 // the epoch's last trial
	train, val float64
}

// epochScorer scores a network's parameters on a forecast's training and
// validation windows (the same predictor as the final scores).
type epochScorer struct {
	cfg sim.Config
	fc  *environment.Forecast
}

func (s epochScorer) score(epoch int, trial uint64, params []float64) epochPoint {
	pred := reference.Predictor(s.cfg, params)
	return epochPoint{epoch: epoch, trial: trial,
		train: s.fc.OneStep(environment.Training, pred), val: s.fc.OneStep(environment.Validation, pred)}
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
	p.epochs = &epochScorer{cfg: p.cfg, fc: fc}
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

// batchEpochs pairs a batch's epochs with their seeds (nil if p scored none).
func batchEpochs(p plan, b batch) []seedEpochs {
	if p.epochs == nil {
		return nil
	}
	var out []seedEpochs
	for i, r := range b.results {
		out = append(out, seedEpochs{seed: r.Seed, points: b.epochs[i]})
	}
	return out
}

// epochColumns are epochs.csv's: the seed, the epoch (from 1), its last
// trial, and the one-step NRMSE on the training windows and the validation
// part (normalised series, 1: as good as the mean).
var epochColumns = []string{"seed", "epoch", "trial", "train_nrmse", "val_nrmse"}

// writeEpochs writes epochs.csv and epochs.png into dir.
func writeEpochs(dir string, files outFiles) error {
	f, err := os.Create(filepath.Join(dir, "epochs.csv"))
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	cw := csv.NewWriter(bw)
	cw.Write(epochColumns)
	train, val := curveSet{name: "training windows"}, curveSet{name: "validation part", dashed: true}
	for _, s := range files.epochs {
		seed := strconv.FormatUint(s.seed, 10)
		var tc, vc []float64
		for _, p := range s.points {
			cw.Write([]string{seed, strconv.Itoa(p.epoch), strconv.FormatUint(p.trial, 10), cell(p.train), cell(p.val)})
			tc, vc = append(tc, p.train), append(vc, p.val)
		}
		train.curves, val.curves = append(train.curves, tc), append(val.curves, vc)
	}
	cw.Flush()
	if err := errors.Join(cw.Error(), bw.Flush(), f.Close()); err != nil {
		return err
	}
	fig, err := curvesFigure(files.epochTitle, "epoch", "one-step NRMSE", []curveSet{train, val})
	if err != nil {
		return err
	}
	return files.style.save(single{fig}, filepath.Join(dir, "epochs.png"))
}
