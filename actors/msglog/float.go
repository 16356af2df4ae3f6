package msglog

import (
	"fmt"
	"math"
	"strconv"
)

// ParseFloat reads a float the way the log writes it: a JSON number, or the
// JSON string "NaN", "+Inf" or "-Inf". A number beyond float64's range is an
// error (as with encoding/json).
func ParseFloat(v []byte) (float64, error) {
	if len(v) > 0 && v[0] == '"' {
		switch string(v) {
		case `"NaN"`:
			return math.NaN(), nil
		case `"+Inf"`:
			return math.Inf(1), nil
		case `"-Inf"`:
			return math.Inf(-1), nil
		}
		return 0, fmt.Errorf("%s is not a number", clip(v))
	}
	if end, err := skipNumber(v, 0); err != nil || end != len(v) {
		return 0, fmt.Errorf("%s is not a number", clip(v))
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return 0, fmt.Errorf("%s is out of range", clip(v))
	}
	return f, nil
}

// Float is a float64 that marshals to JSON as the log writes floats: a
// number, or the string "NaN", "+Inf" or "-Inf"; it unmarshals from either.
type Float float64

// MarshalJSON writes f in the shortest form that reads back to it.
func (f Float) MarshalJSON() ([]byte, error) {
	return AppendFloat(nil, float64(f)), nil
}

// UnmarshalJSON reads a number or "NaN", "+Inf" or "-Inf".
func (f *Float) UnmarshalJSON(b []byte) error {
	v, err := ParseFloat(b)
	if err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// AppendFloat appends v as a JSON value: the shortest number that reads back
// to v (in exponent form below 1e-6 and from 1e21 on, as encoding/json
// writes), or "NaN", "+Inf" or "-Inf" as a string.
func AppendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"+Inf"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Inf"`...)
	}
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.AppendFloat(b, v, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}
