package synapse

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
)

// Digest returns the hex SHA-256 of params, each value written as its 8-byte
// little-endian IEEE-754 bit pattern. Two parameter vectors have the same
// digest only if they are bit-identical (so −0 and +0 differ, and NaN payloads
// count). Callers pass every neuron's Params in the network's canonical order.
func Digest(params []float64) string {
	h := sha256.New()
	var b [8]byte
	for _, v := range params {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}
