package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/environment/reference"
)

const predictUsage = `usage: dopasim predict --model FILE --series SERIES [--column C] [--inputs LIST] [-o FILE]

Forecasts a series with a network saved by "dopasim chaos --save FILE": for
every window of the series (the model's window length), the value the model
was trained to predict (the next one, or --horizon-train steps on), and
writes a CSV with a header: index (the target's position in the series,
0-based), target and forecast, in the series' units. The series is
normalised with the model's own training normalisation. The one-step NRMSE
over all the windows is printed on stderr. A model trained with covariates
(chaos --inputs) reads the same ones: by default the columns or
coordinates of the names it recorded; --inputs chooses others, which must
come out under the same names.

`

const evalUsage = `usage: dopasim eval --model FILE

Prints the outputs of a network saved by "dopasim xor --save FILE" on the
four XOR patterns, its MSE and whether it solves XOR (every output on the
right side of 0.5 and MSE below the tolerance).

`

// cmdPredict is dopasim predict.
func cmdPredict(e *env, args []string) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	modelPath := fs.String("model", "", "the saved network (chaos --save)")
	series := fs.String("series", "", "mackey-glass, lorenz, rossler, or file:PATH (as for chaos)")
	column := fs.String("column", "", "file series: the CSV column to read, by header name or 0-based index")
	inputList := fs.String("inputs", "", "the covariates to read (default: the model's), as for chaos --inputs")
	length := fs.Int("length", defaultLength, "built-in series: samples generated")
	segment := fs.Int("segment", 0, "built-in series: the stretch `K` of its orbit to forecast, as for chaos --segment")
	outPath := fs.String("o", "-", "write the CSV to `FILE` (-: standard output)")
	if err := parseCommand(e, fs, args, predictUsage); err != nil {
		return err
	}
	switch {
	case *modelPath == "":
		return usagef("predict: --model FILE is needed")
	case *series == "":
		return usagef("predict: --series is needed")
	case *length < 1 || *length > 1_000_000:
		return usagef("--length must be between 1 and 1000000 (got %d)", *length)
	}
	m, err := readModel("--model", *modelPath)
	if err != nil {
		return err
	}
	if m.Task != "chaos" {
		return usagef("--model %s: a %s network; predict forecasts with a chaos one (eval runs an xor one)", *modelPath, m.Task)
	}
	inputs := m.Forecast.Inputs
	if isSet(fs, "inputs") {
		if inputs, err = parseInputs(*inputList); err != nil {
			return err
		}
	}
	data, err := loadSeries(seriesSpec{name: *series, column: *column, inputs: recordedInputs(inputs), length: *length, segment: *segment,
		columnSet: isSet(fs, "column"), segmentSet: isSet(fs, "segment")})
	if err != nil {
		return err
	}
	if !slices.Equal(data.inputs, m.Forecast.Inputs) {
		return usagef("--model %s was trained with covariates [%s]; this series gives [%s]", *modelPath,
			strings.Join(m.Forecast.Inputs, ", "), strings.Join(data.inputs, ", "))
	}
	rows, nrmse, err := forecastSeries(m, data)
	if err != nil {
		return err
	}
	if err := writeCSV(e, "-o", *outPath, rows); err != nil {
		return err
	}
	with := ""
	if len(data.inputs) > 0 {
		with = " with " + strings.Join(data.inputs, ", ")
	}
	fmt.Fprintf(e.stderr, "dopasim: predict: %d windows of %d steps%s, %s forecast, NRMSE %.4g\n", len(rows), m.Forecast.Window, with, stepsAhead(m.Forecast.Ahead), nrmse)
	return nil
}

// forecastRow is one line of predict's CSV.
type forecastRow struct {
	index            int
	target, forecast float64
}

// recordedInputs turns covariate names as a model records them back into
// --inputs entries: "column N" (a file column without a header name) into
// its index N.
func recordedInputs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		if k, ok := strings.CutPrefix(n, "column "); ok {
			if _, err := strconv.Atoi(k); err == nil {
				out[i] = k
			}
		}
	}
	return out
}

// forecastSeries runs m over every window of data: the target and the
// covariates, each normalised by the model's mean and std for it, the
// forecasts denormalised back.
func forecastSeries(m *modelFile, data seriesData) ([]forecastRow, float64, error) {
	fcm, values := m.Forecast, data.values
	W, ahead := fcm.Window, fcm.Ahead
	n := len(values) - W - ahead + 1
	if n < 2 {
		return nil, 0, usagef("--series: %d values, too few for windows of %d predicting %d ahead", len(values), W, ahead)
	}
	cfg, err := m.config()
	if err != nil {
		return nil, 0, err
	}
	x := make([]float64, 0, n*W*(1+len(data.covariates)))
	targets := make([]float64, n)
	for i := range n {
		for tau := i; tau < i+W; tau++ {
			x = append(x, (values[tau]-fcm.Mean)/fcm.Std)
			for c, cov := range data.covariates {
				x = append(x, (cov[tau]-fcm.InputScales[c].Mean)/fcm.InputScales[c].Std)
			}
		}
		targets[i] = values[i+W-1+ahead]
	}
	out := reference.Predictor(cfg, m.params())(x, n)
	rows := make([]forecastRow, n)
	forecasts := make([]float64, n)
	for i := range n {
		forecasts[i] = out[i]*fcm.Std + fcm.Mean
		rows[i] = forecastRow{index: i + W - 1 + ahead, target: targets[i], forecast: forecasts[i]}
	}
	return rows, environment.NRMSE(forecasts, targets), nil
}

// writeCSV writes predict's rows to path (flag names it; "-": stdout),
// atomically for a file.
func writeCSV(e *env, flag, path string, rows []forecastRow) error {
	var w io.Writer = e.stdout
	var f *atomicFile
	if path != "-" {
		var err error
		if f, err = createAtomic(flag, path); err != nil {
			return err
		}
		defer f.discard()
		w = f
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "index,target,forecast")
	for _, r := range rows {
		fmt.Fprintf(bw, "%d,%s,%s\n", r.index, strconv.FormatFloat(r.target, 'g', -1, 64), strconv.FormatFloat(r.forecast, 'g', -1, 64))
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f != nil {
		return f.commit()
	}
	return nil
}

// cmdEval is dopasim eval.
func cmdEval(e *env, args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	modelPath := fs.String("model", "", "the saved network (xor --save)")
	if err := parseCommand(e, fs, args, evalUsage); err != nil {
		return err
	}
	if *modelPath == "" {
		return usagef("eval: --model FILE is needed")
	}
	m, err := readModel("--model", *modelPath)
	if err != nil {
		return err
	}
	if m.Task != "xor" {
		return usagef("--model %s: a %s network; eval runs an xor one (predict forecasts with a chaos one)", *modelPath, m.Task)
	}
	cfg, err := m.config()
	if err != nil {
		return err
	}
	task := environment.XOR{Tolerance: environment.DefaultTolerance}
	x := task.Inputs(0)
	y := reference.Predictor(cfg, m.params())(x, task.Patterns())
	targets := task.Targets(0)
	fmt.Fprintln(e.stdout, "x1 x2  target  output")
	for p := range task.Patterns() {
		fmt.Fprintf(e.stdout, "%2.0f %2.0f  %6.0f  %.4f\n", x[2*p], x[2*p+1], targets[p], y[p])
	}
	verdict := "does not solve XOR"
	if task.Solved(y, 0) {
		verdict = "solves XOR"
	}
	fmt.Fprintf(e.stdout, "MSE %.6g: %s (seed %d, weights digest %s)\n", task.Loss(y, 0), verdict, m.Seed, m.Digest)
	return nil
}

// parseCommand parses a command's own flags (no run flags); -h prints
// cmdUsage and the flags.
func parseCommand(e *env, fs *flag.FlagSet, args []string, cmdUsage string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		return parseError(e, fs, err, cmdUsage, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// isSet reports whether the flag name was given.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
