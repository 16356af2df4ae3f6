package remote

import (
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/dopasim/dopasim/actors/wire"
)

// Token authentication (Options.Token) proves each side to the other
// without the secret ever crossing the wire, and binds every proof to the
// two addresses it is made for, so that a program listening at a node's
// address in its place (a local user can bind a free port) can neither
// learn the secret nor pass on a proof to another node:
//
//   - the coordinator at address c dials a node at address n with a Hello
//     carrying a fresh random nonce;
//   - a node with a token, at its own address n, draws a fresh challenge for
//     the Hello's sender c (kept until c's next Hello) and answers with it
//     and nodeProof = HMAC-SHA256(token, "dopasim node", nonce, challenge,
//     n, c), which the coordinator checks, with the n it dialled and its
//     own c, before it places anything;
//   - every placement and removal carries coordinatorProof =
//     HMAC-SHA256(token, "dopasim coordinator", challenge, c, n), which the
//     node checks with the challenge it gave the sender, the sender's
//     address and its own.
//
// An impostor at n that relays a Hello to another node m gets a proof for
// m and for itself as the sender, which the coordinator refuses; a proof
// the coordinator makes for n is worth nothing at m. The proofs are 32
// bytes, compared in constant time. A token authenticates, it does not
// encrypt: between hosts, use mutual TLS.

// nonceBytes is the length of a Hello's nonce and of a node's challenge.
const nonceBytes = 32

// Labels keep a node's proof from ever being a coordinator's.
const (
	nodeProofLabel        = "dopasim node"
	coordinatorProofLabel = "dopasim coordinator"
)

// tokenMAC is HMAC-SHA256 under token of label and parts, each part
// preceded by its length so that no two lists of parts give the same
// input.
func tokenMAC(token []byte, label string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, token)
	m.Write([]byte(label))
	for _, p := range parts {
		m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(p))))
		m.Write(p)
	}
	return m.Sum(nil)
}

// nodeProof is the answer of the node at address node, which gave the
// coordinator at address coord the challenge, to the coordinator's nonce.
func nodeProof(token, nonce, challenge []byte, node, coord string) []byte {
	return tokenMAC(token, nodeProofLabel, nonce, challenge, []byte(node), []byte(coord))
}

// coordinatorProof is what the coordinator at address coord sends with each
// placement and removal to the node at address node that gave it the
// challenge.
func coordinatorProof(token, challenge []byte, coord, node string) []byte {
	return tokenMAC(token, coordinatorProofLabel, challenge, []byte(coord), []byte(node))
}

// newNonce returns a Hello's nonce: randomBytes, or nil without a token.
func newNonce(token []byte) []byte {
	if len(token) == 0 {
		return nil
	}
	return randomBytes()
}

// randomBytes returns nonceBytes bytes from crypto/rand.
func randomBytes() []byte {
	b := make([]byte, nonceBytes)
	crand.Read(b) // never fails (crypto/rand)
	return b
}

// checkNodeToken is the coordinator's side: given its token (nil: none),
// the nonce it sent, the node's address as dialled, its own address and the
// node's reply, it returns the proof to send with every placement on that
// node (nil without tokens), or why the node is refused.
func checkNodeToken(token, nonce []byte, node, coord string, r *wire.HelloReply) ([]byte, error) {
	switch {
	case len(token) == 0 && !r.TokenRequired:
		return nil, nil
	case len(token) == 0:
		return nil, fmt.Errorf("this node was started with a token file: give the coordinator the same --token-file")
	case !r.TokenRequired:
		return nil, fmt.Errorf("this node was started without --token-file, and this coordinator has one: give the node the same file")
	case len(r.Challenge) != nonceBytes || !hmac.Equal(r.Proof, nodeProof(token, nonce, r.Challenge, node, coord)):
		return nil, fmt.Errorf("the node could not prove it holds this coordinator's token (its --token-file differs, or another program listens at that address)")
	}
	return coordinatorProof(token, r.Challenge, coord, node), nil
}

// challenges are the challenges a node with a token gave coordinators, by
// address, at most maxChallenges of them (the oldest go first). Not safe
// for concurrent use (the node actor's).
type challenges struct {
	by    map[string][]byte
	order []string // addresses, oldest first
}

// maxChallenges bounds the coordinators a node remembers a challenge for.
const maxChallenges = 1024

// issue draws a new challenge for the coordinator at addr.
func (c *challenges) issue(addr string) []byte {
	if c.by == nil {
		c.by = map[string][]byte{}
	}
	if _, ok := c.by[addr]; !ok {
		c.order = append(c.order, addr)
		if len(c.order) > maxChallenges {
			delete(c.by, c.order[0])
			c.order = c.order[1:]
		}
	}
	ch := randomBytes()
	c.by[addr] = ch
	return ch
}

// proofOK reports whether proof answers the challenge given to the
// coordinator at coord, for the node at node, under token.
func (c *challenges) proofOK(token, proof []byte, coord, node string) bool {
	ch, ok := c.by[coord]
	return ok && hmac.Equal(proof, coordinatorProof(token, ch, coord, node))
}
