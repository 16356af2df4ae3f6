package actors

import (
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/dopasim/dopasim/actors/wire"
)

// Token authentication (RemoteOptions.Token) proves each side to the other
// without the secret ever crossing the wire, so a program that listens at
// a node's address in its place (a local user can bind a free port) learns
// nothing it could use at the real node:
//
//   - the coordinator's Hello carries a fresh random nonce;
//   - a node with a token answers with its challenge, random and fixed for
//     the node's life, and nodeProof(token, nonce), which the coordinator
//     checks before it places anything;
//   - every placement and removal carries coordinatorProof(token,
//     challenge), which the node checks: only a holder of the token can
//     compute it, and it is worth nothing at another node (another
//     challenge).
//
// Both proofs are HMAC-SHA256 values of 32 bytes, compared in constant time.
// Between hosts use mutual TLS: a token keeps out other users of one host,
// who cannot read its loopback traffic, and does not encrypt anything.

// nonceBytes is the length of a Hello's nonce and of a node's challenge.
const nonceBytes = 32

// Labels keep a node's proof from ever being a coordinator's.
const (
	nodeProofLabel        = "dopasim node"
	coordinatorProofLabel = "dopasim coordinator"
)

func tokenMAC(token []byte, label string, data []byte) []byte {
	m := hmac.New(sha256.New, token)
	m.Write([]byte(label))
	m.Write(data)
	return m.Sum(nil)
}

// nodeProof is a node's answer to a Hello's nonce.
func nodeProof(token, nonce []byte) []byte { return tokenMAC(token, nodeProofLabel, nonce) }

// coordinatorProof is what a coordinator sends with each placement and
// removal to the node of that challenge.
func coordinatorProof(token, challenge []byte) []byte {
	return tokenMAC(token, coordinatorProofLabel, challenge)
}

// newNonce returns nonceBytes random bytes, or nil without a token.
func newNonce(token []byte) []byte {
	if len(token) == 0 {
		return nil
	}
	b := make([]byte, nonceBytes)
	crand.Read(b) // never fails (crypto/rand)
	return b
}

// checkNodeToken is the coordinator's side: given its token (nil: none),
// the nonce it sent and the node's reply, it returns the proof to send with
// every placement on that node (nil without tokens), or why the node is
// refused.
func checkNodeToken(token, nonce []byte, r *wire.HelloReply) ([]byte, error) {
	switch {
	case len(token) == 0 && !r.TokenRequired:
		return nil, nil
	case len(token) == 0:
		return nil, fmt.Errorf("this node was started with a token file: give the coordinator the same --token-file")
	case !r.TokenRequired:
		return nil, fmt.Errorf("this node was started without --token-file, and this coordinator has one: give the node the same file")
	case len(r.Challenge) != nonceBytes || !hmac.Equal(r.Proof, nodeProof(token, nonce)):
		return nil, fmt.Errorf("the node could not prove it holds this coordinator's token (its --token-file differs, or another program listens at that address)")
	}
	return coordinatorProof(token, r.Challenge), nil
}
