package actors

import (
	"crypto/x509"
	"net"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
)

// The access rules, one message at a time: who may claim which sender, and
// send to which actor, on a coordinator and on a node.
func TestAccessRules(t *testing.T) {
	cert := func(ips ...string) *x509.Certificate {
		c := &x509.Certificate{}
		for _, ip := range ips {
			if p := net.ParseIP(ip); p != nil {
				c.IPAddresses = append(c.IPAddresses, p)
			} else {
				c.DNSNames = append(c.DNSNames, ip)
			}
		}
		return c
	}
	const coord, nodeA, nodeB = "10.0.0.3:7500", "10.0.0.1:7400", "node-b:7400"
	coordinator := &access{coordinator: true, nodes: []string{nodeA, nodeB}}
	node := &access{}
	node.runs.Store(coord+"/seed-1.1", []string{coord, nodeA, nodeB})
	neuron := actor.NewPID(nodeA, placedPrefix(coord, "seed-1.1/")+"neuron/h/000")
	for _, c := range []struct {
		name           string
		a              *access
		target, sender *actor.PID
		peer           *x509.Certificate
		want           bool
	}{
		{"coordinator: a node's reply", coordinator, actor.NewPID(coord, "seed-1.1/env"), nil, cert("10.0.0.1"), true},
		{"coordinator: a node known by name", coordinator, actor.NewPID(coord, "seed-1.1"), actor.NewPID(nodeB, "x"), cert("node-b"), true},
		{"coordinator: a stranger", coordinator, actor.NewPID(coord, "seed-1.1/env"), nil, cert("10.0.0.9"), false},
		{"coordinator: a node claiming another's sender", coordinator, actor.NewPID(coord, "seed-1.1"), actor.NewPID(nodeB, "x"), cert("10.0.0.1"), false},
		{"node: a handshake from anyone", node, actor.NewPID(nodeA, nodeActorName), actor.NewPID("10.0.0.9:1", "future$1"), cert("10.0.0.9"), true},
		{"node: a removal claiming the coordinator", node, actor.NewPID(nodeA, nodeActorName), actor.NewPID(coord, "future$1"), cert("10.0.0.9"), false},
		{"node: the coordinator's placement", node, actor.NewPID(nodeA, nodeActorName), actor.NewPID(coord, "future$2"), cert("10.0.0.3"), true},
		{"node: a signal from the coordinator", node, neuron, nil, cert("10.0.0.3"), true},
		{"node: an activation from the run's other node", node, neuron, nil, cert("node-b"), true},
		{"node: an activation from a stranger", node, neuron, nil, cert("10.0.0.9"), false},
		{"node: a run it does not host", node, actor.NewPID(nodeA, placedPrefix(coord, "seed-2.1/")+"relay"), nil, cert("10.0.0.3"), false},
		{"node: another of its actors", node, actor.NewPID(nodeA, "$42"), nil, cert("10.0.0.3"), false},
	} {
		if got := c.a.allow(c.target, c.sender, c.peer); got != c.want {
			t.Errorf("%s: allow = %v, want %v", c.name, got, c.want)
		}
	}
}
