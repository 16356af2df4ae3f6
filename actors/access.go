package actors

import (
	"crypto/x509"
	"net"
	"strings"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// access decides, with mutual TLS, what an authenticated peer may send to
// this process; the guard applies it to every envelope that arrives. The
// pinned protoactor remote trusts the sender a peer writes into an envelope,
// and delivers to any actor a peer names, so without it any holder of a
// certificate of the CA could act as another coordinator (remove its run
// from a node) or feed another run's actors made-up messages.
//
// A peer is known by the hosts its certificate names (its IP and DNS
// subject alternative names), so the rules hold per host, not per process:
//
//   - an envelope's sender, if it names one, must be on a host of the peer's
//     certificate;
//   - a coordinator (nodes set) takes envelopes only from its nodes' hosts;
//   - a node takes envelopes for its well-known actor (the handshake and
//     placements) from any peer, and for a run's actors only from the run's
//     coordinator's host and its nodes' hosts, registered at placement.
//
// Safe for concurrent use.
type access struct {
	coordinator bool
	nodes       []string // a coordinator's nodes (host:port)
	runs        sync.Map // a node: runKey → []string, the addresses that may send to the run's actors
}

// allow reports whether the peer holding cert may send an envelope from
// sender (nil: none named) to target.
func (a *access) allow(target, sender *actor.PID, cert *x509.Certificate) bool {
	if sender != nil && !covers(cert, sender.Address) {
		return false
	}
	if a.coordinator {
		return coversAny(cert, a.nodes)
	}
	if target.Id == nodeActorName {
		return true
	}
	// A run's actor on a node: dopasim/<coordinator address>/<run>/<name>.
	rest, ok := strings.CutPrefix(target.Id, nodeActorName+"/")
	if !ok {
		return false
	}
	coord, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return false
	}
	run, _, _ := strings.Cut(rest, "/")
	peers, ok := a.runs.Load(coord + "/" + run)
	return ok && coversAny(cert, peers.([]string))
}

// covers reports whether cert names the host of addr (host:port).
func covers(cert *x509.Certificate, addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && cert.VerifyHostname(host) == nil
}

// coversAny reports whether cert names the host of any of addrs.
func coversAny(cert *x509.Certificate, addrs []string) bool {
	for _, addr := range addrs {
		if covers(cert, addr) {
			return true
		}
	}
	return false
}
