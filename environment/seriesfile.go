package environment

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// LoadSeries reads a series: one value per line, or comma-separated values
// of which column (0-based) is taken. Blank lines and lines whose first
// non-blank character is '#' are skipped, CRLF line ends are accepted, and a
// first data line that is not numeric is taken as a header. Anything else that
// is not a finite number is an error naming the source and the line (1-based).
// name is used only in messages.
func LoadSeries(r io.Reader, name string, column int) ([]float64, error) {
	if column < 0 {
		return nil, fmt.Errorf("%s: column %d must be ≥ 0", name, column)
	}
	v, _, err := LoadSeriesColumn(r, name, strconv.Itoa(column))
	return v, err
}

// LoadSeriesColumn is LoadSeries with the column chosen by column: a
// 0-based index, a name in the file's header, or "" for a file of one
// column (a file of several is refused, its columns listed: training on a
// column nobody chose is how a wrong result goes unnoticed). It also returns
// the column read: its header name if it has one, else "column N".
func LoadSeriesColumn(r io.Reader, name, column string) ([]float64, string, error) {
	v, used, err := LoadSeriesColumns(r, name, []string{column})
	if err != nil {
		return nil, "", err
	}
	return v[0], used[0], nil
}

// LoadSeriesColumns is LoadSeriesColumn for several columns of the same
// rows (a target and its covariates), each chosen as LoadSeriesColumn's
// column ("" only when it is the one column asked for); a column chosen
// twice is an error. It returns one series per column, in the order asked,
// and their names.
func LoadSeriesColumns(r io.Reader, name string, columns []string) ([][]float64, []string, error) {
	if len(columns) == 0 {
		return nil, nil, fmt.Errorf("%s: no column to read", name)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	vals := make([][]float64, len(columns))
	var idx []int
	var used []string
	line, data := 0, 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff") // a UTF-8 byte-order mark
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		data++
		fields := strings.Split(text, ",")
		if data == 1 {
			var header bool
			var err error
			if idx, used, header, err = pickColumns(fields, columns); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %v", name, line, err)
			}
			if header {
				continue
			}
		}
		for k, i := range idx {
			v, err := parseField(fields, i)
			if err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %v", name, line, err)
			}
			vals[k] = append(vals[k], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(vals[0]) == 0 {
		return nil, nil, fmt.Errorf("%s: no values", name)
	}
	return vals, used, nil
}

// parseField returns field i of a data line as a finite number.
func parseField(fields []string, i int) (float64, error) {
	if i >= len(fields) {
		return 0, fmt.Errorf("%d column(s), no column %d", len(fields), i)
	}
	field := strings.TrimSpace(fields[i])
	v, err := strconv.ParseFloat(field, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) || (err == nil && (math.IsNaN(v) || math.IsInf(v, 0))):
		return 0, fmt.Errorf("%q is not a finite number", excerpt(field))
	case err != nil:
		return 0, fmt.Errorf("%q is not a number", excerpt(field))
	}
	return v, nil
}

// pickColumns resolves each of columns against a file's first data line
// (pickColumn): the indexes to read, the columns' names, and whether the
// line is a header, which every chosen column must agree on.
func pickColumns(fields, columns []string) (idx []int, used []string, header bool, err error) {
	for k, column := range columns {
		if column == "" && len(columns) > 1 {
			return nil, nil, false, errors.New("every column of several must be named or numbered")
		}
		i, u, h, err := pickColumn(fields, column)
		switch {
		case err != nil:
			return nil, nil, false, err
		case k > 0 && h != header:
			return nil, nil, false, fmt.Errorf("the first line has a name in column %d and a number in column %d: a header names every column", pick(h, i, idx[0]), pick(h, idx[0], i))
		case slices.Contains(idx, i):
			return nil, nil, false, fmt.Errorf("column %s is chosen twice", u)
		}
		idx, used, header = append(idx, i), append(used, u), h
	}
	return idx, used, header, nil
}

// pick returns a if c, else b.
func pick(c bool, a, b int) int {
	if c {
		return a
	}
	return b
}

// pickColumn resolves column against a file's first data line, fields: the
// index to read, the column's name, and whether the line is a header (its
// chosen field, or with a name every field, not a number).
func pickColumn(fields []string, column string) (idx int, used string, header bool, err error) {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = strings.TrimSpace(f)
	}
	switch n, perr := strconv.Atoi(column); {
	case column == "" && len(fields) > 1:
		return 0, "", false, fmt.Errorf("%d columns (%s): choose one with --column NAME or INDEX (0-based)", len(fields), excerpt(strings.Join(names, ", ")))
	case column == "":
		idx = 0
	case perr == nil && n >= 0:
		idx = n
	case perr == nil:
		return 0, "", false, fmt.Errorf("column %d must be ≥ 0", n)
	default:
		idx = slices.Index(names, column)
		if idx < 0 || numeric(names[idx]) {
			return 0, "", false, fmt.Errorf("no column named %q in the header (%s)", excerpt(column), excerpt(strings.Join(names, ", ")))
		}
	}
	if idx >= len(fields) {
		if !numeric(fields[0]) {
			return 0, "", false, fmt.Errorf("header has %d column(s), no column %d", len(fields), idx)
		}
		return 0, "", false, fmt.Errorf("%d column(s), no column %d", len(fields), idx)
	}
	header = !numeric(fields[idx])
	if _, rangeErr := strconv.ParseFloat(names[idx], 64); errors.Is(rangeErr, strconv.ErrRange) {
		header = false // an out-of-range number is a bad value, not a name
	}
	used = fmt.Sprintf("column %d", idx)
	if header && names[idx] != "" {
		used = excerpt(names[idx])
	}
	return idx, used, header, nil
}

func numeric(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}

// excerpt returns s, or its first 40 characters and an ellipsis: an error
// quotes enough of a bad field to find it, not a whole line of megabytes.
func excerpt(s string) string {
	const most = 40
	if r := []rune(s); len(r) > most {
		return string(r[:most]) + "…"
	}
	return s
}
