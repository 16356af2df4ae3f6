package main

import (
	"fmt"
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

// seriesSpec is what names a --series: the series, a file's target column
// (columnSet: --column given), the covariates, and a built-in series'
// length and segment (segmentSet: --segment given).
type seriesSpec struct {
	name, column          string
	inputs                []string
	length, segment       int
	columnSet, segmentSet bool
}

// maxSegmentSamples bounds what --segment generates: (segment+1)·length
// samples of the orbit.
const maxSegmentSamples = 20_000_000

// loadSeries returns a built-in series of s.length samples (segment
// s.segment of its orbit), or a file's column, and the covariates named by
// s.inputs: other columns of the file (the target then needs --column), or
// other coordinates of a built-in flow (its observed coordinate, x, is the
// target). Problems with the data are usage errors naming the file and
// line.
func loadSeries(s seriesSpec) (seriesData, error) {
	if path, ok := strings.CutPrefix(s.name, "file:"); ok {
		switch {
		case path == "":
			return seriesData{}, usagef("--series file: needs a path (file:PATH)")
		case len(s.inputs) > 0 && s.column == "":
			return seriesData{}, usagef("--inputs needs --column: name the target column beside its covariates")
		case s.segmentSet:
			return seriesData{}, usagef("--segment applies to built-in series only: a file: series is what its file holds")
		}
		cols, used, err := readSeriesFile(path, append([]string{s.column}, s.inputs...))
		if err != nil {
			return seriesData{}, err
		}
		return seriesData{values: cols[0], covariates: cols[1:], sys: environment.System{Name: "file"}, column: used[0], inputs: used[1:]}, nil
	}
	switch {
	case s.columnSet:
		return seriesData{}, usagef("--column applies to file: series only")
	case s.segment < 0 || (s.segment+1)*s.length > maxSegmentSamples:
		return seriesData{}, usagef("--segment %d: want 0 or more, with (segment+1) × length at most %d samples", s.segment, maxSegmentSamples)
	}
	sys, err := environment.SystemByName(s.name)
	if err != nil {
		return seriesData{}, usagef("--series: %v", err)
	}
	target := sys.Coordinates[0]
	if slices.Contains(s.inputs, target) {
		return seriesData{}, usagef("--inputs: %s is %s's observed coordinate, the target itself", target, sys.Name)
	}
	coords, err := sys.GenerateCoordinates(s.length, s.segment, append([]string{target}, s.inputs...))
	if err != nil {
		return seriesData{}, usagef("--inputs: %v", err)
	}
	return seriesData{values: coords[0], covariates: coords[1:], sys: sys, inputs: s.inputs}, nil
}

// seriesLabel names a series in reports and figures, with the column read
// from a file ("": none), the segment of a built-in one's orbit (0: say
// nothing) and the covariates read beside it (none: nil).
func seriesLabel(series, column string, segment int, inputs []string) string {
	if column != "" {
		series += " (" + column + ")"
	}
	if segment > 0 {
		series += fmt.Sprintf(" segment %d", segment)
	}
	if len(inputs) > 0 {
		series += " with " + strings.Join(inputs, ", ")
	}
	return series
}
