package synapse

import "math/rand/v2"

// Mix64 is the SplitMix64 finaliser: a bijective avalanche mix of x. It turns
// structured inputs (a seed, an index, a trial number) into well-spread
// 64-bit seeds.
func Mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Stream names the purpose of a random stream derived from a run's root seed.
// Each entity of a run draws from its own stream, so adding draws to one entity
// never shifts the numbers another one sees.
type Stream uint64

const (
	// StreamInit draws a neuron's initial weights and bias.
	StreamInit Stream = 1
	// StreamNoise draws a neuron's perturbations ξ, addressed by trial.
	StreamNoise Stream = 2
	// StreamEnvironment draws the environment's randomness (for example
	// mini-batch order); XOR uses none.
	StreamEnvironment Stream = 3
	// StreamDelivery draws the delivery of an asynchronous run's messages
	// (delays, drops), one stream per sending actor.
	StreamDelivery Stream = 4
	// StreamBaseline draws the random parts of a closed-form baseline that
	// the run is compared with (an echo state network's reservoir).
	StreamBaseline Stream = 5
	// StreamSpectral draws the start vector of the spectral-radius control
	// of a recurrent layer, one stream per control (indexed by the trial
	// after which it runs).
	StreamSpectral Stream = 6
)

// Key derives the 64-bit key of stream s for entity index of the run seeded
// with root: Key = Mix64(Mix64(Mix64(root) ^ s) ^ index). Different (root, s,
// index) triples give unrelated keys.
func Key(root uint64, s Stream, index uint64) uint64 {
	return Mix64(Mix64(Mix64(root)^uint64(s)) ^ index)
}

// NewSource returns a PCG source seeded from key, for draws that are consumed
// in order (initial weights).
func NewSource(key uint64) rand.Source {
	return rand.NewPCG(key, Mix64(key))
}

// Noise draws the perturbations of one neuron. The numbers for a trial depend
// only on (key, trial): the generator is reseeded with
// PCG(Mix64(key ^ Mix64(trial)), Mix64(key + trial)) before each fill, and the
// standard normals come from math/rand/v2's NormFloat64. Filling trial t twice,
// or after filling other trials, gives the same values.
//
// The zero value is not usable; call NewNoise. A Noise is not safe for
// concurrent use.
type Noise struct {
	key uint64
	pcg rand.PCG
	rng *rand.Rand
}

// NewNoise returns the perturbation stream with the given key.
func NewNoise(key uint64) *Noise {
	n := &Noise{key: key}
	n.rng = rand.New(&n.pcg)
	return n
}

// Fill sets dst[i] = sigma·z_i, where z_0, z_1, … are the standard normal
// draws of the given trial. Units: dst has the units of sigma.
func (n *Noise) Fill(dst []float64, trial uint64, sigma float64) {
	n.pcg.Seed(Mix64(n.key^Mix64(trial)), Mix64(n.key+trial))
	for i := range dst {
		dst[i] = sigma * n.rng.NormFloat64()
	}
}
