package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// A saved network (--save, read by --init, predict and eval): JSON, with a
// format name and version, so that a reader can refuse what it does not
// know. docs/models.md describes it.

const (
	modelFormat  = "dopasim-model"
	modelVersion = 1
	// maxModelBytes bounds a model file: the paper's 512-unit network is
	// 263 000 parameters, about 6 MB of JSON.
	maxModelBytes = 256 << 20
)

// modelFile is a trained network: what it is, every neuron's parameters by
// name in canonical order, and how it was trained.
type modelFile struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	Program string       `json:"program"` // the build that wrote it (dopasim version)
	Task    string       `json:"task"`    // xor or chaos
	Network networkShape `json:"network"`
	// Forecast is a chaos network's task: its windows and the training
	// part's normalisation, which a forecast of other data must use.
	Forecast *modelForecast `json:"forecast,omitempty"`
	Neurons  []modelNeuron  `json:"neurons"`
	Seed     uint64         `json:"seed"`
	// Digest is the parameters' weights digest (synapse.Digest), checked
	// when the file is read.
	Digest string `json:"weights_digest"`
	// Training is how the run ended, and Config the run's whole
	// configuration, as --json gives it.
	Training modelTraining `json:"training"`
	Config   runConfig     `json:"config"`
}

// networkShape is what a network must match to be loaded into a run.
type networkShape struct {
	Arch             string `json:"arch"` // mlp or elman
	Hidden           int    `json:"hidden"`
	Inputs           int    `json:"inputs"` // input width: XOR's 2, a forecast's window
	Outputs          int    `json:"outputs"`
	HiddenActivation string `json:"hidden_activation"`
	OutputActivation string `json:"output_activation"`
}

type modelForecast struct {
	Series string  `json:"series"`
	Column string  `json:"column,omitempty"`
	Window int     `json:"window"`
	Ahead  int     `json:"ahead"`
	Mean   float64 `json:"mean"` // of the training part: z = (v − mean)/std
	Std    float64 `json:"std"`
	// Inputs are the covariates read beside the target at every step
	// (--inputs), and InputScales their training parts' normalisation.
	Inputs      []string            `json:"inputs,omitempty"`
	InputScales []environment.Scale `json:"input_scales,omitempty"`
	// Segment is the stretch of a built-in series' orbit it trained on.
	Segment int `json:"segment,omitempty"`
}

// seriesSource is what a chaos run trained on, for its saved model: the
// --series, the file column read and the covariates' names.
type seriesSource struct {
	series, column string
	segment        int
	inputs         []string
}

type modelNeuron struct {
	Name   string    `json:"name"`
	Params []float64 `json:"params"` // weights in input order, then the bias
}

type modelTraining struct {
	End    string `json:"end"`
	Trials uint64 `json:"trials"`
	Loss   num    `json:"loss"`
}

// shapeOf is the network shape of cfg.
func shapeOf(cfg sim.Config) networkShape {
	task := cfg.TaskOrDefault()
	return networkShape{Arch: cfg.Arch.String(), Hidden: cfg.Hidden, Inputs: task.InputWidth(), Outputs: task.OutputWidth(),
		HiddenActivation: cfg.HiddenActivation.String(), OutputActivation: cfg.OutputActivation.String()}
}

// newModel is the model of run r of plan p; fc is a chaos run's forecast
// (nil: XOR). A run whose weights are not finite (diverged) has no model.
func newModel(p plan, f *runFlags, r sim.Result, fc *environment.Forecast, src seriesSource) (*modelFile, error) {
	for _, v := range r.Params {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("seed %d %s: its weights are not finite, nothing to save", r.Seed, r.End)
		}
	}
	m := &modelFile{Format: modelFormat, Version: modelVersion, Program: "dopasim " + version(), Task: p.task, Network: shapeOf(p.cfg),
		Seed: r.Seed, Digest: r.Digest, Training: modelTraining{End: r.End.String(), Trials: r.Trials, Loss: num(r.Loss)}, Config: describe(p, f)}
	net, err := sim.Build(p.cfg) // for the names and sizes only
	if err != nil {
		return nil, err
	}
	k := 0
	for _, layer := range net.Layers {
		for i, n := range layer.Neurons {
			size := n.Config().Params()
			m.Neurons = append(m.Neurons, modelNeuron{Name: sim.NeuronName(layer.Tag, i), Params: r.Params[k : k+size]})
			k += size
		}
	}
	if fc != nil {
		mean, std := fc.Scale()
		m.Forecast = &modelForecast{Series: src.series, Column: src.column, Window: fc.Config().Window, Ahead: fc.Ahead(), Mean: mean, Std: std,
			Inputs: src.inputs, InputScales: fc.CovariateScales(), Segment: src.segment}
	}
	return m, nil
}

// saveModel writes m to path atomically (--save).
func saveModel(path string, m *modelFile) error {
	out, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("--save %s: %v", path, err)
	}
	f, err := createAtomic("--save", path)
	if err != nil {
		return err
	}
	defer f.discard()
	if _, err := f.Write(append(out, '\n')); err != nil {
		return err
	}
	return f.commit()
}

// readModel reads and checks a model file (flag names it in messages):
// its format and version, every neuron's name and parameter count against
// its own network shape, and its digest. Every problem is a usage error.
func readModel(flag, path string) (*modelFile, error) {
	fh, err := openRegular(flag, path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	raw, err := io.ReadAll(io.LimitReader(fh, maxModelBytes+1))
	switch {
	case err != nil:
		return nil, usagef("%s %s: %v", flag, path, err)
	case len(raw) > maxModelBytes:
		return nil, usagef("%s %s: larger than %d MiB, not a dopasim model", flag, path, maxModelBytes>>20)
	}
	var m modelFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil {
		return nil, usagef("%s %s: not a dopasim model (%v)", flag, path, err)
	}
	if m.Format != modelFormat {
		return nil, usagef("%s %s: not a dopasim model (format %q)", flag, path, m.Format)
	}
	if m.Version != modelVersion {
		return nil, usagef("%s %s: model version %d, this dopasim reads version %d", flag, path, m.Version, modelVersion)
	}
	if err := m.check(); err != nil {
		return nil, usagef("%s %s: %v", flag, path, err)
	}
	return &m, nil
}

// check verifies the neurons against the model's own shape, and the digest.
func (m *modelFile) check() error {
	cfg, err := m.config()
	if err != nil {
		return err
	}
	net, err := sim.Build(cfg)
	if err != nil {
		return err
	}
	var params []float64
	k := 0
	for _, layer := range net.Layers {
		for i, n := range layer.Neurons {
			name := sim.NeuronName(layer.Tag, i)
			switch {
			case k >= len(m.Neurons):
				return fmt.Errorf("%d neurons, its network has %d", len(m.Neurons), net.Size())
			case m.Neurons[k].Name != name || len(m.Neurons[k].Params) != n.Config().Params():
				return fmt.Errorf("neuron %d is %q with %d parameters, want %s with %d", k, m.Neurons[k].Name, len(m.Neurons[k].Params), name, n.Config().Params())
			}
			params = append(params, m.Neurons[k].Params...)
			k++
		}
	}
	if k != len(m.Neurons) {
		return fmt.Errorf("%d neurons, its network has %d", len(m.Neurons), net.Size())
	}
	if d := synapse.Digest(params); d != m.Digest {
		return fmt.Errorf("its parameters digest to %s, not to the %s it records (the file was changed)", d, m.Digest)
	}
	return nil
}

// params are the model's parameters in canonical order.
func (m *modelFile) params() []float64 {
	var p []float64
	for _, n := range m.Neurons {
		p = append(p, n.Params...)
	}
	return p
}

// config is a sim.Config of the model's network, enough to build it and to
// run its forward pass: its task is XOR or a stand-in forecast of the
// model's window.
func (m *modelFile) config() (sim.Config, error) {
	s := m.Network
	hid, err1 := synapse.ParseActivation(s.HiddenActivation)
	outAct, err2 := synapse.ParseActivation(s.OutputActivation)
	if err := errors.Join(err1, err2); err != nil {
		return sim.Config{}, err
	}
	cfg := sim.Config{Hidden: s.Hidden, HiddenActivation: hid, OutputActivation: outAct, Sigma: 1, MaxTrials: 1}
	switch {
	case s.Arch == sim.MLP.String() && m.Task == "xor" && s.Inputs == 2 && s.Outputs == 1 && m.Forecast == nil:
	case s.Arch == sim.Elman.String() && m.Task == "chaos" && m.Forecast != nil && s.Outputs == 1 && s.Inputs == m.Forecast.Window*(1+len(m.Forecast.Inputs)):
		cfg.Arch = sim.Elman
		fc, err := standInForecast(m.Forecast)
		if err != nil {
			return sim.Config{}, err
		}
		cfg.Task = fc
	default:
		return sim.Config{}, fmt.Errorf("a %s network of %d inputs and %d outputs for task %q is not one dopasim trains", s.Arch, s.Inputs, s.Outputs, m.Task)
	}
	if s.Hidden < 1 || s.Hidden > maxHidden {
		return sim.Config{}, fmt.Errorf("hidden %d is outside 1 … %d", s.Hidden, maxHidden)
	}
	if !(m.Forecast == nil || m.Forecast.Std > 0 && !math.IsInf(m.Forecast.Std, 0) && !math.IsNaN(m.Forecast.Mean) && !math.IsInf(m.Forecast.Mean, 0) && m.Forecast.Ahead >= 1) {
		return sim.Config{}, fmt.Errorf("forecast normalisation mean %v, std %v, ahead %d: not a trained forecast's", m.Forecast.Mean, m.Forecast.Std, m.Forecast.Ahead)
	}
	return cfg, nil
}

// standInForecast is a forecast of windows like the model's, for building
// its network and running its forward pass (its values are not used).
func standInForecast(f *modelForecast) (*environment.Forecast, error) {
	if f.Window < 1 || f.Window > 4096 || f.Ahead < 1 || f.Ahead > 1_000_000 {
		return nil, fmt.Errorf("forecast window %d, ahead %d: out of range", f.Window, f.Ahead)
	}
	if len(f.Inputs) > maxInputs || len(f.InputScales) != len(f.Inputs) {
		return nil, fmt.Errorf("%d covariates with %d normalisations: want the same number, at most %d", len(f.Inputs), len(f.InputScales), maxInputs)
	}
	for i, sc := range f.InputScales {
		if !(sc.Std > 0) || math.IsInf(sc.Std, 0) || math.IsNaN(sc.Mean) || math.IsInf(sc.Mean, 0) {
			return nil, fmt.Errorf("covariate %s normalisation mean %v, std %v: not a trained forecast's", f.Inputs[i], sc.Mean, sc.Std)
		}
	}
	n := 10 * (f.Window + f.Ahead + 1)
	series := make([]float64, n)
	for i := range series {
		series[i] = float64(i % 7)
	}
	covariates := make([][]float64, len(f.Inputs))
	for i := range covariates {
		covariates[i] = series
	}
	return environment.NewMultivariateForecast("model", series, covariates, f.Inputs,
		environment.ForecastConfig{Window: f.Window, Batch: 1, Train: 0.6, Val: 0.2, Ahead: f.Ahead})
}

// initFrom loads the model at path into cfg as its initial parameters
// (--init), refusing one whose network differs from cfg's.
func initFrom(path string, cfg *sim.Config) error {
	m, err := readModel("--init", path)
	if err != nil {
		return err
	}
	if got, want := m.Network, shapeOf(*cfg); got != want {
		return usagef("--init %s: its network is %s (hidden %d, %d inputs, %s/%s), this run's is %s (hidden %d, %d inputs, %s/%s)", path,
			got.Arch, got.Hidden, got.Inputs, got.HiddenActivation, got.OutputActivation,
			want.Arch, want.Hidden, want.Inputs, want.HiddenActivation, want.OutputActivation)
	}
	cfg.InitParams = m.params()
	return nil
}

// bindModelFlags adds --save and --init to a training command (xor, chaos).
func bindModelFlags(fs *flag.FlagSet, f *runFlags) {
	fs.StringVar(&f.savePath, "save", "", "write the trained network to `FILE` (JSON: its shape, every neuron's parameters, how it was trained; one seed)")
	fs.StringVar(&f.initPath, "init", "", "start from the network saved in `FILE` (--save) instead of random weights; its shape must be this run's")
}

// saveRun saves run r of plan p to --save (fc, series and column: a chaos
// run's forecast and where its values came from).
func saveRun(p plan, f *runFlags, r sim.Result, fc *environment.Forecast, src seriesSource) error {
	m, err := newModel(p, f, r, fc, src)
	if err != nil {
		return err
	}
	return saveModel(f.savePath, m)
}
