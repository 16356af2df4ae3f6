package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// A results folder (--out DIR): one run command's report, configuration,
// tidy per-seed table and figure, written into a temporary folder beside
// DIR and renamed onto it when complete, so that DIR is either absent or
// whole.

// outFiles is what a results folder holds.
type outFiles struct {
	report any        // results.json: the --json report
	config runConfig  // config.json
	header []string   // seeds.csv: one row per seed, numeric columns
	rows   [][]string //
	figure figure     // forecast.png (nil: none)
	// traces are every seed's trials (loss, δ, η) for trials.csv and
	// learning-curve.png (titled traceTitle); nil: neither is written.
	traces     []seedTrace
	traceTitle string
	// epochs are every seed's per-epoch scores for epochs.csv and
	// epochs.png (titled epochTitle); nil: neither is written.
	epochs     []seedEpochs
	epochTitle string
	style      figureStyle // of the figures
}

// seedTrace is one seed's trials.
type seedTrace struct {
	seed   uint64
	trials []trialPoint
}

// maxTraceRows bounds trials.csv: seeds × trials rows, about 60 bytes each
// (and 24 bytes each in memory while the runs go).
const maxTraceRows = 5_000_000

// keepTrace makes p record every trial's loss, δ and η when a results
// folder will hold them, unless the seeds × trials could pass maxTraceRows;
// then a warning says trials.csv and learning-curve.png are left out.
func keepTrace(p *plan, dir string) {
	if dir == "" {
		return
	}
	if rows := uint64(len(p.seeds)) * p.cfg.MaxTrials; rows > maxTraceRows {
		p.warnings = append(p.warnings, fmt.Sprintf("--out %s: trials.csv and learning-curve.png are left out: %d seeds × up to %d trials is more than %d rows; --log-level trials records every trial",
			dir, len(p.seeds), p.cfg.MaxTrials, maxTraceRows))
		return
	}
	p.trace = true
}

// seedTraces pairs a batch's traces with their seeds (nil if p kept none).
func seedTraces(p plan, b batch) []seedTrace {
	if !p.trace {
		return nil
	}
	var out []seedTrace
	for i, r := range b.results {
		out = append(out, seedTrace{seed: r.Seed, trials: b.traces[i]})
	}
	return out
}

// runTitle names a plan's optimizer and seeds for a figure's title.
func runTitle(p plan) string {
	if len(p.seeds) == 1 {
		return fmt.Sprintf("%s, seed %d", p.optimizer, p.seeds[0])
	}
	return fmt.Sprintf("%s, seeds %d–%d (median and IQR)", p.optimizer, p.seeds[0], p.seeds[len(p.seeds)-1])
}

// traceColumns are trials.csv's: the seed, the trial (from 0), its clean
// training loss (the batch's MSE) and the δ and η it broadcast (0 on the
// ending trial).
var traceColumns = []string{"seed", "trial", "train_mse", "delta", "eta"}

// writeTraces writes trials.csv and learning-curve.png into dir.
func writeTraces(dir string, files outFiles) error {
	f, err := os.Create(filepath.Join(dir, "trials.csv"))
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	cw := csv.NewWriter(bw)
	cw.Write(traceColumns)
	set := curveSet{name: "clean training loss"}
	for _, s := range files.traces {
		seed := strconv.FormatUint(s.seed, 10)
		loss := make([]float64, len(s.trials))
		for t, tp := range s.trials {
			cw.Write([]string{seed, strconv.Itoa(t), cell(tp.loss), cell(tp.delta), cell(tp.eta)})
			loss[t] = tp.loss
		}
		set.curves = append(set.curves, loss)
	}
	cw.Flush()
	if err := errors.Join(cw.Error(), bw.Flush(), f.Close()); err != nil {
		return err
	}
	fig, err := learningCurves(files.traceTitle, []curveSet{set})
	if err != nil {
		return err
	}
	return files.style.save(single{fig}, filepath.Join(dir, "learning-curve.png"))
}

// bindOutFlag adds --out and the figure flags (bindFigureFlags) to a run
// command (xor, chaos).
func bindOutFlag(fs *flag.FlagSet, f *runFlags) {
	f.figure = bindFigureFlags(fs)
	fs.StringVar(&f.outDir, "out", "", "write results.json, config.json, a per-seed seeds.csv, every trial's training loss, δ and η (trials.csv, learning-curve.png) and, for chaos, forecast.png and every epoch's training and validation loss (epochs.csv, epochs.png) into the new folder `DIR`")
}

// checkOutDir refuses, before anything runs, a --out folder that exists
// (unless empty) or is a file, and creates its parent folders.
func checkOutDir(dir string) error {
	if dir == "" {
		return nil
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return usagef("--out %s: the folder exists and is not empty; give a new one", dir)
	} else if err == nil {
		return nil
	} else if st, serr := os.Stat(dir); serr == nil && !st.IsDir() {
		return usagef("--out %s: not a folder", dir)
	}
	if parent := filepath.Dir(filepath.Clean(dir)); os.MkdirAll(parent, 0o777) != nil {
		return usagef("--out %s: cannot create the folder %s", dir, parent)
	}
	return nil
}

// writeOutDir writes files into dir: all of them into a temporary folder
// beside it, then renamed onto it.
func writeOutDir(dir string, files outFiles) (err error) {
	dir = filepath.Clean(dir)
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("--out %s: %v", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	for name, v := range map[string]any{"results.json": files.report, "config.json": files.config} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("--out %s: %s: %v", dir, name, err)
		}
		if err := os.WriteFile(filepath.Join(tmp, name), append(b, '\n'), 0o666); err != nil {
			return fmt.Errorf("--out %s: %v", dir, err)
		}
	}
	var table bytes.Buffer
	cw := csv.NewWriter(&table)
	cw.Write(files.header)
	cw.WriteAll(files.rows)
	if err := errors.Join(cw.Error(), os.WriteFile(filepath.Join(tmp, "seeds.csv"), table.Bytes(), 0o666)); err != nil {
		return fmt.Errorf("--out %s: %v", dir, err)
	}
	if files.figure != nil {
		if err := files.style.save(files.figure, filepath.Join(tmp, "forecast.png")); err != nil {
			return fmt.Errorf("--out %s: forecast.png: %v", dir, err)
		}
	}
	if files.traces != nil {
		if err := writeTraces(tmp, files); err != nil {
			return fmt.Errorf("--out %s: %v", dir, err)
		}
	}
	if files.epochs != nil {
		if err := writeEpochs(tmp, files); err != nil {
			return fmt.Errorf("--out %s: %v", dir, err)
		}
	}
	os.Remove(dir) // an empty folder given as --out; rename will not replace a full one
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("--out %s: %v", dir, err)
	}
	return nil
}

// cell writes a number of a CSV row (or, quoted, a non-finite one in
// JSON): non-finite ones as NaN, +Inf, -Inf.
func cell(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func flag01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// seedColumns are the columns of an XOR seed's row (seeds.csv, --per-seed).
var seedColumns = []string{"seed", "end", "solved", "censored", "trials", "trials_to_solve", "final_mse", "final_eta", "messages", "weights_digest"}

// xorSeedTable is an XOR batch's seeds.csv: trials_to_solve is empty and
// censored 1 for a seed that did not solve within its cap.
func xorSeedTable(runs []runJSON) ([]string, [][]string) {
	header := seedColumns
	var rows [][]string
	for _, r := range runs {
		solve := ""
		if r.TrialsToSolve != nil {
			solve = strconv.FormatUint(*r.TrialsToSolve, 10)
		}
		rows = append(rows, []string{strconv.FormatUint(r.Seed, 10), r.End, flag01(r.TrialsToSolve != nil), flag01(r.TrialsToSolve == nil),
			strconv.FormatUint(r.Trials, 10), solve, cell(float64(r.Loss)), cell(float64(r.Eta)), strconv.FormatUint(r.Messages, 10), r.WeightsDigest})
	}
	return header, rows
}

// chaosSeedTable is a forecasting batch's seeds.csv; a score that does not
// apply (a free run K steps ahead, a valid time without a Lyapunov
// exponent) is empty.
func chaosSeedTable(runs []chaosRun) ([]string, [][]string) {
	header := []string{"seed", "end", "diverged", "trials", "final_batch_mse", "nrmse_1step_val", "nrmse_1step", "nrmse_free", "valid_time_lyapunov", "messages", "weights_digest"}
	var rows [][]string
	score := func(v statNum) string {
		if math.IsNaN(float64(v)) {
			return ""
		}
		return cell(float64(v))
	}
	for _, r := range runs {
		valid := ""
		if r.ValidTime != nil {
			valid = score(*r.ValidTime)
		}
		rows = append(rows, []string{strconv.FormatUint(r.Seed, 10), r.End, flag01(r.End == "diverged"), strconv.FormatUint(r.Trials, 10),
			cell(float64(r.Loss)), score(r.NRMSEVal), score(r.NRMSETest), score(r.NRMSEFree), valid, strconv.FormatUint(r.Messages, 10), r.Digest})
	}
	return header, rows
}
