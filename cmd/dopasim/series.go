package main

import (
	"slices"
	"strings"

	"github.com/dopasim/dopasim/environment"
)

// seriesData is a loaded --series: the target's values and, with --inputs,
// the covariates read beside it at every step.
type seriesData struct {
	values     []float64
	covariates [][]float64
	sys        environment.System // System{Name: "file"} for a file
	column     string             // the file column read as the target ("": a built-in series)
	inputs     []string           // the covariates' names: header names or "column N", or coordinates
}

// maxInputs bounds the covariates of a forecast (--inputs, a saved model's):
// each is one more input weight on every hidden neuron.
const maxInputs = 64

// parseInputs splits --inputs: a comma-separated list of distinct, non-empty
// column names or indexes (file:) or coordinates (built-in); "" is none.
func parseInputs(list string) ([]string, error) {
	if list == "" {
		return nil, nil
	}
	var out []string
	for _, in := range strings.Split(list, ",") {
		in = strings.TrimSpace(in)
		switch {
		case in == "":
			return nil, usagef("--inputs %q: an empty entry (want a comma-separated list of columns)", list)
		case slices.Contains(out, in):
			return nil, usagef("--inputs %q: %s is listed twice", list, in)
		}
		out = append(out, in)
	}
	if len(out) > maxInputs {
		return nil, usagef("--inputs: %d covariates, at most %d", len(out), maxInputs)
	}
	return out, nil
}

// loadSeries returns a built-in series of n samples, or a file's column,
// and the covariates named by inputs: other columns of the file (the
// target then needs --column), or other coordinates of a built-in flow (its
// observed coordinate, x, is the target). Problems with the data are usage
// errors naming the file and line.
func loadSeries(name, column string, inputs []string, n int, columnSet bool) (seriesData, error) {
	if path, ok := strings.CutPrefix(name, "file:"); ok {
		switch {
		case path == "":
			return seriesData{}, usagef("--series file: needs a path (file:PATH)")
		case len(inputs) > 0 && column == "":
			return seriesData{}, usagef("--inputs needs --column: name the target column beside its covariates")
		}
		cols, used, err := readSeriesFile(path, append([]string{column}, inputs...))
		if err != nil {
			return seriesData{}, err
		}
		return seriesData{values: cols[0], covariates: cols[1:], sys: environment.System{Name: "file"}, column: used[0], inputs: used[1:]}, nil
	}
	if columnSet {
		return seriesData{}, usagef("--column applies to file: series only")
	}
	sys, err := environment.SystemByName(name)
	if err != nil {
		return seriesData{}, usagef("--series: %v", err)
	}
	if len(inputs) == 0 {
		return seriesData{values: sys.Generate(n), sys: sys}, nil
	}
	target := sys.Coordinates[0]
	if slices.Contains(inputs, target) {
		return seriesData{}, usagef("--inputs: %s is %s's observed coordinate, the target itself", target, sys.Name)
	}
	coords, err := sys.GenerateCoordinates(n, append([]string{target}, inputs...))
	if err != nil {
		return seriesData{}, usagef("--inputs: %v", err)
	}
	return seriesData{values: coords[0], covariates: coords[1:], sys: sys, inputs: inputs}, nil
}

// seriesLabel names a series in reports and figures, with the column read
// from a file ("": none) and the covariates read beside it (none: nil).
func seriesLabel(series, column string, inputs []string) string {
	if column != "" {
		series += " (" + column + ")"
	}
	if len(inputs) > 0 {
		series += " with " + strings.Join(inputs, ", ")
	}
	return series
}
