package protocol

import (
	"strings"
	"testing"
)

func TestGatherAssemblesInSlotOrder(t *testing.T) {
	type put struct {
		trial uint64
		slot  int
		v     float64
	}
	cases := []struct {
		name string
		puts []put
		// after all puts: the trials taken in order and their slot values
		want [][]float64
		err  string
	}{
		{"in order", []put{{0, 0, 1}, {0, 1, 2}}, [][]float64{{1, 2}}, ""},
		{"reversed", []put{{0, 1, 2}, {0, 0, 1}}, [][]float64{{1, 2}}, ""},
		{"next trial first", []put{{1, 0, 3}, {1, 1, 4}, {0, 1, 2}, {0, 0, 1}}, [][]float64{{1, 2}, {3, 4}}, ""},
		{"far ahead grows the ring", []put{{9, 0, 9}, {9, 1, 9}, {0, 0, 1}, {0, 1, 2}}, [][]float64{{1, 2}}, ""},
		{"incomplete", []put{{0, 0, 1}}, nil, ""},
		{"duplicate", []put{{0, 0, 1}, {0, 0, 1}}, nil, "arrived twice"},
		{"bad slot", []put{{0, 2, 1}}, nil, "out of range"},
	}
	for _, c := range cases {
		g := newGather(2)
		var err error
		for _, p := range c.puts {
			if err = g.put(p.trial, p.slot, []float64{p.v}); err != nil {
				break
			}
		}
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got [][]float64
		for {
			vals, ok := g.full()
			if !ok {
				break
			}
			row := []float64{vals[0][0], vals[1][0]}
			got = append(got, row)
			g.take()
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: took %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i][0] != c.want[i][0] || got[i][1] != c.want[i][1] {
				t.Errorf("%s: took %v, want %v", c.name, got, c.want)
			}
		}
	}
	g := newGather(1)
	_ = g.put(0, 0, []float64{1})
	g.take()
	if err := g.put(0, 0, []float64{1}); err == nil || !strings.Contains(err.Error(), "after that trial") {
		t.Errorf("stale input: err = %v", err)
	}
}
