package sim

import "github.com/dopasim/dopasim/synapse"

// StepBlocks holds one time step's inputs of a recurrent layer of H neurons,
// x(τ) (Width values a pattern) and h_0(τ−1) … h_{H−1}(τ−1), for P patterns
// cut into blocks of Size patterns (the last block may be shorter), laid
// out block by block: block b is x(τ) of its patterns ([pattern][Width]),
// then h_0 … h_{H−1}, each [track][pattern of the
// block], in one contiguous run of memory. A neuron computes a block with
// Forward over the block's patterns alone (Inputs), so all it reads lies in
// one region small enough to stay in a core's cache while every neuron of
// the layer reads it; one neuron's whole output, by contrast, is a separate
// allocation, and the same block of a thousand of them maps onto a handful
// of cache sets. Splitting the patterns changes no bit: every pattern is
// computed on its own, in the same order of synapses.
//
// The zero value is not usable; NewStepBlocks makes one with every value
// zero (h(−1) at τ = 0). Not safe for concurrent writes; concurrent reads
// of blocks that are not being written are safe.
type StepBlocks struct {
	H, P, Tracks, Size, Width int
	data                      []float64
	inputs                    [][]synapse.Input // per block: x(τ), h_0 … h_{H−1}, viewing data
}

// NewStepBlocks returns the zeroed inputs of one step for H neurons, P
// patterns of width values of x(τ), the given number of tracks and blocks
// of size patterns.
func NewStepBlocks(H, P, tracks, size, width int) *StepBlocks {
	per := width + H*tracks // values a pattern
	s := &StepBlocks{H: H, P: P, Tracks: tracks, Size: size, Width: width, data: make([]float64, P*per)}
	for b := 0; b < s.Blocks(); b++ {
		lo, hi := s.Range(b)
		n := hi - lo
		at := lo * per // every block before b holds Size·per values
		in := make([]synapse.Input, 1+H)
		in[0] = synapse.Input{X: s.data[at : at+n*width : at+n*width], Width: width, Shared: true}
		at += n * width
		for j := 1; j <= H; j++ {
			in[j] = synapse.Input{X: s.data[at : at+tracks*n : at+tracks*n], Width: 1}
			at += tracks * n
		}
		s.inputs = append(s.inputs, in)
	}
	return s
}

// NewZeroStep returns the inputs of step 0, whose h_j(−1) are all zero: like
// NewStepBlocks, but every h_j of a block is one shared run of zeros, so it
// holds x(0) and one block of zeros instead of a copy per neuron. Only SetX
// may write it (never a Hidden slice).
func NewZeroStep(H, P, tracks, size, width int) *StepBlocks {
	s := &StepBlocks{H: H, P: P, Tracks: tracks, Size: size, Width: width, data: make([]float64, P*width)}
	zero := make([]float64, tracks*min(size, P))
	for b := 0; b < s.Blocks(); b++ {
		lo, hi := s.Range(b)
		n := hi - lo
		in := make([]synapse.Input, 1+H)
		in[0] = synapse.Input{X: s.data[lo*width : hi*width : hi*width], Width: width, Shared: true}
		for j := 1; j <= H; j++ {
			in[j] = synapse.Input{X: zero[: tracks*n : tracks*n], Width: 1}
		}
		s.inputs = append(s.inputs, in)
	}
	return s
}

// Blocks returns the number of blocks: ⌈P / Size⌉.
func (s *StepBlocks) Blocks() int { return (s.P + s.Size - 1) / s.Size }

// Range returns the patterns lo … hi−1 of block b.
func (s *StepBlocks) Range(b int) (lo, hi int) {
	return b * s.Size, min((b+1)*s.Size, s.P)
}

// Inputs returns block b's inputs in the order a neuron sums them, for
// Forward over hi−lo patterns: x(τ) shared by the tracks, then every h_j
// as [track][pattern]. The slices view the StepBlocks' memory.
func (s *StepBlocks) Inputs(b int) []synapse.Input { return s.inputs[b] }

// SetX sets x(τ) of block b: step τ of the block's windows (windows holds
// all P windows of win, [pattern][step][channel]; win.Width must be the
// blocks' Width).
func (s *StepBlocks) SetX(b int, windows []float64, win Window, tau int) {
	lo, _ := s.Range(b)
	win.Step(s.inputs[b][0].X, windows[lo*win.Values():], tau)
}

// Hidden returns block b's h_j, [track][pattern of the block], to be written.
func (s *StepBlocks) Hidden(b, j int) []float64 { return s.inputs[b][1+j].X }

// BlockPatterns returns the block size for H neurons and the given tracks:
// as many patterns as keep one block's inputs within blockBytes, in
// multiples of 32 (the vectorised kernel's widest stride), at least 32, at
// most P (one block). The block size changes no result, only the speed.
func BlockPatterns(P, H, tracks int) int {
	b := blockBytes / (8 * (1 + H*tracks)) / 32 * 32
	return min(max(b, 32), max(P, 1))
}

// blockBytes is the size of one block of a recurrent step's inputs. Of 256
// KiB to 4 MiB, 1 MiB was fastest for a 512-unit layer in both engines on
// the machine dopasim's performance is measured on (2 MiB of second-level
// cache a core; docs/performance.md) with the AVX kernel, and 1.25 MiB (128
// windows at 512 units, two AVX-512 blocks of 64) with AVX-512.
const blockBytes = 1280 << 10
