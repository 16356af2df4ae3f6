package environment

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
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
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var vals []float64
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
		if column >= len(fields) {
			if data == 1 && !numeric(fields[0]) {
				return nil, fmt.Errorf("%s:%d: header has %d column(s), no column %d", name, line, len(fields), column)
			}
			return nil, fmt.Errorf("%s:%d: %d column(s), no column %d", name, line, len(fields), column)
		}
		field := strings.TrimSpace(fields[column])
		v, err := strconv.ParseFloat(field, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return nil, fmt.Errorf("%s:%d: %q is not a finite number", name, line, excerpt(field))
			}
			if data == 1 {
				continue // a header line
			}
			return nil, fmt.Errorf("%s:%d: %q is not a number", name, line, excerpt(field))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s:%d: %q is not a finite number", name, line, excerpt(field))
		}
		vals = append(vals, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("%s: no values", name)
	}
	return vals, nil
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
