package remote

import (
	"crypto/x509"
	"net"
	"strings"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/dopasim/dopasim/actors/wire"
)

// access decides what a peer may send to this process; the guard applies it
// to every envelope that arrives. The pinned protoactor remote delivers any
// message to any actor a peer names, system messages (Stop, Watch,
// Terminated) included, and trusts the sender a peer writes into an
// envelope.
//
// Whoever the peer, a node's well-known actor takes only the handshake,
// placements and removals from other processes: a remote Stop or
// Terminated would end runs.
//
// With mutual TLS a peer is known by the hosts its verified certificate
// names (its IP and DNS subject alternative names), and the rules hold per
// host, not per process:
//
//   - an envelope's sender, if it names one, must be on a host of the peer's
//     certificate;
//   - a coordinator takes envelopes only from its nodes' hosts;
//   - a node takes envelopes for its well-known actor from any peer, and for
//     a run's actors only from the run's coordinator's host and its nodes'
//     hosts, registered at placement.
//
// Without TLS there is no peer to check, and the rest is trusted.
//
// Safe for concurrent use.
type access struct {
	coordinator bool
	nodes       []string // a coordinator's nodes (host:port)
	runs        sync.Map // a node: runKey → []string, the addresses that may send to the run's actors
}

// nodeActorTypes are the messages a node's well-known actor takes from other
// processes.
var nodeActorTypes = map[string]bool{
	fullName(&wire.Hello{}): true, fullName(&wire.Place{}): true, fullName(&wire.Unplace{}): true,
}

func fullName(m proto.Message) string { return string(m.ProtoReflect().Descriptor().FullName()) }

// allow reports whether a peer (nil: a connection without TLS) may send an
// envelope of type typ (a protobuf full name) from sender (nil: none named)
// to target.
func (a *access) allow(target, sender *actor.PID, typ string, peer *peerHosts) bool {
	if !a.coordinator && target.Id == nodeActorName && !nodeActorTypes[typ] {
		return false
	}
	if peer == nil {
		return true
	}
	if sender != nil && !peer.covers(sender.Address) {
		return false
	}
	if a.coordinator {
		return peer.coversAny(a.nodes)
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
	return ok && peer.coversAny(peers.([]string))
}

// peerHosts is a connection's verified client certificate, with the answers
// it gave so far (one stream's reader uses it: not safe for concurrent use).
type peerHosts struct {
	cert *x509.Certificate
	seen map[string]bool // address → covered
}

// covers reports whether the certificate names the host of addr
// (host:port).
func (p *peerHosts) covers(addr string) bool {
	ok, seen := p.seen[addr]
	if !seen {
		host, _, err := net.SplitHostPort(addr)
		ok = err == nil && p.cert.VerifyHostname(host) == nil
		if p.seen == nil {
			p.seen = map[string]bool{}
		}
		if len(p.seen) < maxSeenHosts {
			p.seen[addr] = ok
		}
	}
	return ok
}

// maxSeenHosts bounds a connection's cache: a peer names what addresses it
// likes.
const maxSeenHosts = 1024

// coversAny reports whether the certificate names the host of any of addrs.
func (p *peerHosts) coversAny(addrs []string) bool {
	for _, addr := range addrs {
		if p.covers(addr) {
			return true
		}
	}
	return false
}
