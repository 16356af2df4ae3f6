package sim

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/dopasim/dopasim/synapse"
)

func TestBlockPatterns(t *testing.T) {
	for _, tc := range []struct{ P, H, tracks, want int }{
		{2968, 512, 2, 128}, // 1.25 MiB / (8 bytes × (1 + 512·2 values a pattern)) = 159.8, in 32s
		{2968, 256, 2, 288},
		{128, 16, 2, 128},   // one block
		{2968, 4096, 3, 32}, // at least 32
		{10, 4096, 3, 10},   // at most P
		{0, 16, 2, 1},
	} {
		if got := BlockPatterns(tc.P, tc.H, tc.tracks); got != tc.want {
			t.Errorf("BlockPatterns(%d, %d, %d) = %d, want %d", tc.P, tc.H, tc.tracks, got, tc.want)
		}
	}
}

// Every block's inputs lie in one contiguous run, blocks follow one another
// and cover every pattern, and what Hidden and SetX write is what Inputs
// reads.
func TestStepBlocksLayout(t *testing.T) {
	for _, width := range []int{1, 3} {
		stepBlocksLayout(t, width)
	}
}

// stepBlocksLayout is TestStepBlocksLayout for x(τ) of width values a
// pattern (windows [pattern][step][channel]).
func stepBlocksLayout(t *testing.T, width int) {
	const H, P, tracks, size, W = 3, 10, 2, 4, 5
	win := Window{Steps: W, Width: width}
	s := NewStepBlocks(H, P, tracks, size, width)
	if s.Blocks() != 3 {
		t.Fatalf("%d blocks of %d for %d patterns", s.Blocks(), size, P)
	}
	windows := make([]float64, P*win.Values())
	for i := range windows {
		windows[i] = float64(i)
	}
	next := &s.data[0]
	for b := 0; b < s.Blocks(); b++ {
		lo, hi := s.Range(b)
		if want := min(b*size+size, P); lo != b*size || hi != want {
			t.Fatalf("block %d is %d … %d", b, lo, hi)
		}
		s.SetX(b, windows, win, 2)
		in := s.Inputs(b)
		for j := range H {
			h := s.Hidden(b, j)
			for i := range h {
				h[i] = float64(100*j + i)
			}
		}
		for j, src := range in {
			want, wantWidth := tracks*(hi-lo), 1
			if j == 0 {
				want, wantWidth = (hi-lo)*width, width
			}
			if len(src.X) != want || &src.X[0] != next || src.Width != wantWidth || src.Shared != (j == 0) {
				t.Fatalf("width %d block %d input %d: %d values of width %d, shared %v, not right after the one before", width, b, j, len(src.X), src.Width, src.Shared)
			}
			next = (*float64)(unsafe.Add(unsafe.Pointer(next), 8*len(src.X)))
			for i, v := range src.X {
				want := float64(100*(j-1) + i)
				if j == 0 { // value c of pattern lo+i/width at step 2
					want = windows[((lo+i/width)*W+2)*width+i%width]
				}
				if v != want {
					t.Fatalf("width %d block %d input %d [%d] = %v, want %v", width, b, j, i, v, want)
				}
			}
		}
	}
}

// A neuron's step computed block by block on StepBlocks is the bits of the
// step computed over all patterns at once on separate inputs.
func TestStepBlocksForwardIsWholeForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	const H, P, tracks, size = 7, 45, 2, 32
	cfg := synapse.Config{FanIn: 1 + H, Sigma: 0.1, Activation: synapse.Tanh}
	params := make([]float64, cfg.Params())
	for i := range params {
		params[i] = rng.NormFloat64()
	}
	whole := []synapse.Input{{X: make([]float64, P), Width: 1, Shared: true}}
	for range H {
		whole = append(whole, synapse.Input{X: make([]float64, tracks*P), Width: 1})
	}
	for _, in := range whole {
		for i := range in.X {
			in.X[i] = rng.NormFloat64()
		}
	}
	s := NewStepBlocks(H, P, tracks, size, 1)
	for b := 0; b < s.Blocks(); b++ {
		lo, hi := s.Range(b)
		copy(s.Inputs(b)[0].X, whole[0].X[lo:hi])
		for j := range H {
			h := s.Hidden(b, j)
			for k := range tracks {
				copy(h[k*(hi-lo):(k+1)*(hi-lo)], whole[1+j].X[k*P+lo:k*P+hi])
			}
		}
	}
	a, _ := synapse.NewNeuron(cfg, 5, params)
	want := make([]float64, tracks*P)
	a.Forward(want, 2, P, whole)
	n, _ := synapse.NewNeuron(cfg, 5, params)
	for b := 0; b < s.Blocks(); b++ {
		lo, hi := s.Range(b)
		got := make([]float64, tracks*(hi-lo))
		n.Forward(got, 2, hi-lo, s.Inputs(b))
		for k := range tracks {
			for p := lo; p < hi; p++ {
				g, w := got[k*(hi-lo)+p-lo], want[k*P+p]
				if math.Float64bits(g) != math.Float64bits(w) {
					t.Fatalf("track %d pattern %d: %v in blocks, %v whole", k, p, g, w)
				}
			}
		}
	}
}

// Step 0's inputs are x(0) and zeros of every block's shape, all h_j
// sharing one run of zeros.
func TestZeroStep(t *testing.T) {
	const H, P, tracks, size, W = 3, 10, 2, 4, 2
	s := NewZeroStep(H, P, tracks, size, 1)
	windows := make([]float64, P*W)
	for i := range windows {
		windows[i] = float64(i + 1)
	}
	for b := 0; b < s.Blocks(); b++ {
		lo, hi := s.Range(b)
		s.SetX(b, windows, Window{Steps: W, Width: 1}, 0)
		in := s.Inputs(b)
		for p, v := range in[0].X {
			if v != windows[(lo+p)*W] || len(in[0].X) != hi-lo {
				t.Fatalf("block %d: x(0) = %v", b, in[0].X)
			}
		}
		for j, src := range in[1:] {
			if len(src.X) != tracks*(hi-lo) || &src.X[0] != &in[1].X[0] {
				t.Fatalf("block %d: h_%d is %d values, not the shared zeros", b, j, len(src.X))
			}
			for _, v := range src.X {
				if v != 0 {
					t.Fatalf("block %d: h_%d(−1) holds %v", b, j, v)
				}
			}
		}
	}
}
