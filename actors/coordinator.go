package actors

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// requestTimeout bounds each handshake, placement and removal request.
const requestTimeout = 10 * time.Second

// A run on nodes that judges no trial for stallChecks × stallCheck probes
// its nodes, each given probeTimeout to answer; one that does not ends the
// run. So a node that hangs without closing its connections (which gRPC's
// keepalive does not always notice) ends the run within about
// stallChecks × stallCheck + probeTimeout.
const (
	stallCheck   = 5 * time.Second
	stallChecks  = 4
	probeTimeout = 5 * time.Second
)

// futureError says in our words why a request to a node got no answer:
// protoactor's future reports "future: dead letter" when the connection
// could not be made, and "future: timeout" when no answer came in time.
func futureError(err error) string {
	switch {
	case errors.Is(err, actor.ErrDeadLetter):
		return "nothing accepted the connection"
	case errors.Is(err, actor.ErrTimeout):
		return "no answer in time"
	}
	return err.Error()
}

// probe sends every node a handshake and returns an error naming the first
// that does not answer in time.
func (e *Engine) probe() error {
	for _, addr := range e.opt.Nodes {
		f := e.sys.Root.RequestFuture(actor.NewPID(addr, nodeActorName), helloMessage(nil), probeTimeout)
		if _, err := f.Result(); err != nil {
			return fmt.Errorf("node %s: no trial for %v and no answer to a probe within %v (%s): the node hangs or is unreachable", addr, stallChecks*stallCheck, probeTimeout, futureError(err))
		}
	}
	return nil
}

// connect starts this engine's remote and checks every node's wire version,
// once; later calls return the first call's error.
func (e *Engine) connect() error {
	e.connectOnce.Do(func() {
		opt := e.opt.Remote
		if opt.Listen == "" {
			opt.Listen = "127.0.0.1:0"
		}
		rem, g, err := startRemote(e.sys, opt, &access{coordinator: true, nodes: e.opt.Nodes})
		if err != nil {
			e.connectErr = err
			return
		}
		e.rem = rem
		e.guard.Store(g)
		for _, addr := range e.opt.Nodes {
			if err := e.hello(addr); err != nil {
				e.connectErr = err
				return
			}
		}
	})
	return e.connectErr
}

// hello is the handshake with one node: both sides must speak the same wire
// version and compute the same neuron arithmetic before any neuron is
// placed.
func (e *Engine) hello(addr string) error {
	nonce := newNonce(e.opt.Remote.Token)
	res, err := e.sys.Root.RequestFuture(actor.NewPID(addr, nodeActorName), helloMessage(nonce), requestTimeout).Result()
	if err != nil {
		return fmt.Errorf("node %s: no answer to the handshake (%s): is a dopasim node listening there, under exactly this address (as its --listen says: 127.0.0.1 and localhost are different names), with the same TLS setup, and with TLS a certificate naming this coordinator's --listen host?", addr, futureError(err))
	}
	r, ok := res.(*wire.HelloReply)
	if !ok {
		return fmt.Errorf("node %s: answered the handshake with %T", addr, res)
	}
	if !r.Accepted {
		return fmt.Errorf("node %s refused: %s", addr, r.Reason)
	}
	if why := handshakeRefusal(r.WireVersion, r.Numerics, r.Program); why != "" {
		// The node accepted, but this build does not (it could only be
		// a node whose own check is wrong).
		return fmt.Errorf("node %s: refused by this coordinator: %s", addr, why)
	}
	proof, err := checkNodeToken(e.opt.Remote.Token, nonce, addr, e.sys.Address(), r)
	if err != nil {
		return fmt.Errorf("node %s refused: %v", addr, err)
	}
	e.proofsMu.Lock()
	e.proofs[addr] = proof
	e.proofsMu.Unlock()
	return nil
}

// proof returns what placements and removals on the node at addr carry
// (token.go; nil without a token).
func (e *Engine) proof(addr string) []byte {
	e.proofsMu.Lock()
	defer e.proofsMu.Unlock()
	return e.proofs[addr]
}

// placeOn sends one placement to the node at addr. If the node refuses its
// proof of the token (it restarted since the handshake, so its challenge
// is another), the engine shakes hands with it again and retries once.
func (e *Engine) placeOn(addr string, m *wire.Place) (*wire.Placed, error) {
	for retried := false; ; retried = true {
		m.Proof = e.proof(addr)
		res, err := e.sys.Root.RequestFuture(actor.NewPID(addr, nodeActorName), m, requestTimeout).Result()
		if err != nil {
			return nil, fmt.Errorf("node %s: placing neuron %s: %v", addr, m.Name, err)
		}
		p, ok := res.(*wire.Placed)
		switch {
		case !ok:
			return nil, fmt.Errorf("node %s: answered a placement with %T", addr, res)
		case p.ProofRefused && !retried:
			if err := e.hello(addr); err != nil {
				return nil, err
			}
			continue
		case p.Error != "":
			return nil, fmt.Errorf("node %s: %s", addr, p.Error)
		case p.Pid == nil || p.Relay == nil:
			return nil, fmt.Errorf("node %s: placing neuron %s: no PID in the answer", addr, m.Name)
		}
		return p, nil
	}
}

// nodeOf returns the node that hosts neuron k of layer l.
func (e *Engine) nodeOf(k, l int) string {
	if e.opt.Placement == ByLayer {
		return e.opt.Nodes[l%len(e.opt.Nodes)]
	}
	return e.opt.Nodes[k%len(e.opt.Nodes)]
}

// place puts every neuron of r's network on its node, with the run actor
// (named name) as its parent, and records their PIDs and the relays in r.
// Layers are placed from the last one back, so that each neuron learns its
// downstream PIDs at placement: a neuron's inputs can reach it from another
// node before anything else the coordinator sends.
func (e *Engine) place(r *runActor, name string) (err error) {
	task := r.cfg.RunTask()
	parent := actor.NewPID(e.sys.Address(), name)
	down := []*actor.PID{actor.NewPID(e.sys.Address(), name+"/env")} // the environment, a child of the run actor
	layers := make([][]*actor.PID, len(r.net.Layers))
	relays := map[string]*actor.PID{}
	first := 0 // canonical index of the layer's first neuron
	for _, layer := range r.net.Layers {
		first += len(layer.Neurons)
	}
	for l := len(r.net.Layers) - 1; l >= 0; l-- {
		layer := r.net.Layers[l]
		first -= len(layer.Neurons)
		width, shared := []uint32{uint32(task.InputWidth())}, true
		if l > 0 {
			width, shared = make([]uint32, len(r.net.Layers[l-1].Neurons)), false
			for j := range width {
				width[j] = 1
			}
		}
		for i, n := range layer.Neurons {
			k := first + i
			c := n.Config()
			addr := e.nodeOf(k, l)
			m := &wire.Place{Run: name, Name: sim.NeuronName(layer.Tag, i), Index: uint32(k), Slot: int32(i),
				FanIn: uint32(c.FanIn), Activation: uint32(c.Activation), Sigma: c.Sigma, Norm: uint32(c.Norm), TwoSided: c.TwoSided,
				NoiseKey: synapse.Key(r.cfg.Seed, synapse.StreamNoise, uint64(k)), Params: n.Params(nil),
				Patterns: uint32(task.Patterns()), Width: width, Shared: shared, Parent: parent, Down: down, Layer: uint32(l), Nodes: e.opt.Nodes}
			if r.log != nil {
				m.LogLevel = uint32(r.log.level)
			}
			if r.cfg.Arch == sim.Elman && l == 0 {
				m.Recurrent, m.Hidden, m.Window = true, uint32(len(layer.Neurons)), uint32(task.InputWidth())
			}
			if r.mode == Async {
				if m.AsyncOptions, err = json.Marshal(r.async); err != nil {
					return err
				}
				m.Seed = r.cfg.Seed
			}
			p, err := e.placeOn(addr, m)
			if err != nil {
				return err
			}
			layers[l] = append(layers[l], p.Pid)
			if relays[addr] == nil {
				relays[addr] = p.Relay
				r.relays = append(r.relays, p.Relay)
			}
		}
		down = layers[l]
	}
	for _, pids := range layers {
		r.placed = append(r.placed, pids...)
	}
	return nil
}

// unplace asks every node, at once, to stop the run's neurons, and waits up
// to unplaceTimeout for their answers. It is best effort: a node that is
// gone has nothing left to stop, and one that hangs will see the neurons'
// run actor stop (they watch it).
func (e *Engine) unplace(name string) {
	var fs []*actor.Future
	for _, addr := range e.opt.Nodes {
		fs = append(fs, e.sys.Root.RequestFuture(actor.NewPID(addr, nodeActorName), &wire.Unplace{Run: name, Proof: e.proof(addr)}, unplaceTimeout))
	}
	for _, f := range fs {
		_, _ = f.Result() // nothing to report to: the run's outcome is decided
	}
}

// unplaceTimeout bounds the removal of a finished run's neurons.
const unplaceTimeout = 2 * time.Second
