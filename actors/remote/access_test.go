package remote

import (
	"crypto/x509"
	"net"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/actors/wire"
)

// The access rules, one message at a time: which types a node's actor takes
// from other processes, who may claim which sender, and who may send to
// which actor, on a coordinator and on a node, with and without TLS.
func TestAccessRules(t *testing.T) {
	peer := func(names ...string) *peerHosts {
		c := &x509.Certificate{}
		for _, n := range names {
			if ip := net.ParseIP(n); ip != nil {
				c.IPAddresses = append(c.IPAddresses, ip)
			} else {
				c.DNSNames = append(c.DNSNames, n)
			}
		}
		return &peerHosts{cert: c}
	}
	const coord, nodeA, nodeB = "10.0.0.3:7500", "10.0.0.1:7400", "node-b:7400"
	coordinator := &access{coordinator: true, nodes: []string{nodeA, nodeB}}
	node := &access{}
	node.runs.Store(coord+"/seed-1.ab.1", []string{coord, nodeA, nodeB})
	neuron := actor.NewPID(nodeA, placedPrefix(coord, "seed-1.ab.1/")+"neuron/h/000")
	self := actor.NewPID(nodeA, nodeActorName)
	act, hello, place, unplace := fullName(&wire.Activation{}), fullName(&wire.Hello{}), fullName(&wire.Place{}), fullName(&wire.Unplace{})
	const stop, terminated = "actor.Stop", "actor.Terminated"
	for _, c := range []struct {
		name           string
		a              *access
		target, sender *actor.PID
		typ            string
		peer           *peerHosts
		want           bool
	}{
		{"coordinator: a node's reply", coordinator, actor.NewPID(coord, "seed-1.ab.1/env"), nil, act, peer("10.0.0.1"), true},
		{"coordinator: a node known by name", coordinator, actor.NewPID(coord, "seed-1.ab.1"), actor.NewPID(nodeB, "x"), terminated, peer("node-b"), true},
		{"coordinator: a stranger", coordinator, actor.NewPID(coord, "seed-1.ab.1/env"), nil, act, peer("10.0.0.9"), false},
		{"coordinator: a node claiming another's sender", coordinator, actor.NewPID(coord, "seed-1.ab.1"), actor.NewPID(nodeB, "x"), act, peer("10.0.0.1"), false},
		{"coordinator: anything without TLS", coordinator, actor.NewPID(coord, "seed-1.ab.1"), nil, terminated, nil, true},
		{"node: a handshake from anyone", node, self, actor.NewPID("10.0.0.9:1", "future$1"), hello, peer("10.0.0.9"), true},
		{"node: the coordinator's placement", node, self, actor.NewPID(coord, "future$2"), place, peer("10.0.0.3"), true},
		{"node: a removal claiming the coordinator", node, self, actor.NewPID(coord, "future$1"), unplace, peer("10.0.0.9"), false},
		{"node: a Stop for its actor", node, self, nil, stop, peer("10.0.0.3"), false},
		{"node: a Terminated for its actor", node, self, nil, terminated, peer("10.0.0.3"), false},
		{"node: a Stop for its actor without TLS", node, self, nil, stop, nil, false},
		{"node: a placement without TLS", node, self, actor.NewPID(coord, "future$2"), place, nil, true},
		{"node: a signal from the coordinator", node, neuron, nil, act, peer("10.0.0.3"), true},
		{"node: an activation from the run's other node", node, neuron, nil, act, peer("node-b"), true},
		{"node: an activation from a stranger", node, neuron, nil, act, peer("10.0.0.9"), false},
		{"node: a run it does not host", node, actor.NewPID(nodeA, placedPrefix(coord, "seed-2.ab.1/")+"relay"), nil, act, peer("10.0.0.3"), false},
		{"node: another of its actors", node, actor.NewPID(nodeA, "$42"), nil, act, peer("10.0.0.3"), false},
	} {
		if got := c.a.allow(c.target, c.sender, c.typ, c.peer); got != c.want {
			t.Errorf("%s: allow = %v, want %v", c.name, got, c.want)
		}
	}
}
