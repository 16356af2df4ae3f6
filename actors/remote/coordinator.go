package remote

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	protoremote "github.com/asynkron/protoactor-go/remote"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// requestTimeout bounds each handshake, placement and removal request.
const requestTimeout = 10 * time.Second

// probeTimeout is how long each node has to answer a probe (Probe).
const probeTimeout = 5 * time.Second

// Coordinator places the neurons of one Engine's runs on nodes
// (actors.Options.Placer): it listens on Options.Listen, checks every
// node's wire version and arithmetic at its first run, and spreads each
// run's neurons over the nodes by its Placement. Safe for concurrent use
// by the engine's runs.
type Coordinator struct {
	nodes     []string // host:port of each node
	placement Placement
	opt       Options

	sys         *actor.ActorSystem // the engine's, from Connect
	rem         *protoremote.Remote
	guard       atomic.Pointer[guard] // of the remote's connections
	connectOnce sync.Once
	connectErr  error
	codec       []actor.PropsOption
	// proofs are what each node's placements and removals carry (token.go),
	// by node address: written by each handshake (the first, or again after
	// a node restarted).
	proofsMu sync.Mutex
	proofs   map[string][]byte
	crossed  atomic.Uint64 // messages the engine's actors sent to nodes
}

// NewCoordinator returns the placer of an engine's runs on nodes (at least
// one, host:port each), with the transport settings opt (Listen empty:
// 127.0.0.1 on any free port).
func NewCoordinator(nodes []string, placement Placement, opt Options) *Coordinator {
	return &Coordinator{nodes: nodes, placement: placement, opt: opt, proofs: map[string][]byte{}}
}

var _ actors.Placer = (*Coordinator)(nil)

// CrossNode returns how many messages the engine's actors have sent to
// nodes.
func (e *Coordinator) CrossNode() uint64 { return e.crossed.Load() }

// Dropped returns how many envelopes from other processes the coordinator
// dropped as they arrived (see Node.Dropped); 0 before its first run.
func (e *Coordinator) Dropped() uint64 {
	if g := e.guard.Load(); g != nil {
		return g.dropped.Load()
	}
	return 0
}

// Middleware converts what the run's actors send to a node to wire form,
// and what they receive from one back (after Connect).
func (e *Coordinator) Middleware() []actor.PropsOption { return e.codec }

// IDPrefix is what the IDs of a run's neurons start with on their nodes:
// the node actor's children are named by runKey (after Connect).
func (e *Coordinator) IDPrefix(run string) string {
	return placedPrefix(e.sys.Address(), run+"/")
}

// Close stops the coordinator's remote, if Connect started it.
func (e *Coordinator) Close() {
	if e.rem != nil {
		shutdownRemote(e.rem)
	}
}

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

// Probe sends every node a handshake and returns an error naming the first
// that does not answer in time; quiet is how long the run judged no trial.
func (e *Coordinator) Probe(quiet time.Duration) error {
	for _, addr := range e.nodes {
		f := e.sys.Root.RequestFuture(actor.NewPID(addr, nodeActorName), helloMessage(nil), probeTimeout)
		if _, err := f.Result(); err != nil {
			return fmt.Errorf("node %s: no trial for %v and no answer to a probe within %v (%s): the node hangs or is unreachable", addr, quiet, probeTimeout, futureError(err))
		}
	}
	return nil
}

// Connect starts the remote on the engine's actor system sys and checks
// every node's wire version, once; later calls return the first call's
// error.
func (e *Coordinator) Connect(sys *actor.ActorSystem) error {
	e.connectOnce.Do(func() {
		e.sys = sys
		opt := e.opt
		if opt.Listen == "" {
			opt.Listen = "127.0.0.1:0"
		}
		rem, g, err := startRemote(e.sys, opt, &access{coordinator: true, nodes: e.nodes})
		if err != nil {
			e.connectErr = err
			return
		}
		e.rem = rem
		e.guard.Store(g)
		e.codec = codecProps(e.sys.Address(), &e.crossed)
		for _, addr := range e.nodes {
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
func (e *Coordinator) hello(addr string) error {
	nonce := newNonce(e.opt.Token)
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
	proof, err := checkNodeToken(e.opt.Token, nonce, addr, e.sys.Address(), r)
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
func (e *Coordinator) proof(addr string) []byte {
	e.proofsMu.Lock()
	defer e.proofsMu.Unlock()
	return e.proofs[addr]
}

// placeOn sends one placement to the node at addr. If the node refuses its
// proof of the token (it restarted since the handshake, so its challenge
// is another), the engine shakes hands with it again and retries once.
func (e *Coordinator) placeOn(addr string, m *wire.Place) (*wire.Placed, error) {
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
func (e *Coordinator) nodeOf(k, l int) string {
	if e.placement == ByLayer {
		return e.nodes[l%len(e.nodes)]
	}
	return e.nodes[k%len(e.nodes)]
}

// Place puts every neuron of a run on its node, with the run actor as its
// parent. Layers are placed from the last one back, so that each neuron
// learns its downstream PIDs at placement: a neuron's inputs can reach it
// from another node before anything else the coordinator sends.
func (e *Coordinator) Place(req actors.PlaceRequest) (actors.Placed, error) {
	var placed actors.Placed
	down := []*actor.PID{req.Env}
	layers := make([][]*actor.PID, len(req.Net.Layers))
	relays := map[string]*actor.PID{}
	first := 0 // canonical index of the layer's first neuron
	for _, layer := range req.Net.Layers {
		first += len(layer.Neurons)
	}
	for l := len(req.Net.Layers) - 1; l >= 0; l-- {
		layer := req.Net.Layers[l]
		first -= len(layer.Neurons)
		for i, n := range layer.Neurons {
			k := first + i
			addr := e.nodeOf(k, l)
			m, err := placeMessage(req, l, i, k, n, down)
			if err != nil {
				return placed, err
			}
			m.Nodes = e.nodes
			p, err := e.placeOn(addr, m)
			if err != nil {
				return placed, err
			}
			layers[l] = append(layers[l], p.Pid)
			if relays[addr] == nil {
				relays[addr] = p.Relay
				placed.Relays = append(placed.Relays, p.Relay)
			}
		}
		down = layers[l]
	}
	for _, pids := range layers {
		placed.Neurons = append(placed.Neurons, pids...)
	}
	return placed, nil
}

// placeMessage is the placement of neuron i of layer l (canonical index k)
// of a run, whose receivers are down.
func placeMessage(req actors.PlaceRequest, l, i, k int, n *synapse.Neuron, down []*actor.PID) (*wire.Place, error) {
	task := req.Config.RunTask()
	layer := req.Net.Layers[l]
	width, shared := []uint32{uint32(task.InputWidth())}, true
	if l > 0 {
		width, shared = make([]uint32, len(req.Net.Layers[l-1].Neurons)), false
		for j := range width {
			width[j] = 1
		}
	}
	c := n.Config()
	m := &wire.Place{Run: req.Run, Name: sim.NeuronName(layer.Tag, i), Index: uint32(k), Slot: int32(i),
		FanIn: uint32(c.FanIn), Activation: uint32(c.Activation), Sigma: c.Sigma, Norm: uint32(c.Norm), TwoSided: c.TwoSided,
		NoiseKey: synapse.Key(req.Config.Seed, synapse.StreamNoise, uint64(k)), Params: n.Params(nil),
		Patterns: uint32(task.Patterns()), Width: width, Shared: shared, Parent: req.Parent, Down: down, Layer: uint32(l),
		LogLevel: uint32(req.LogLevel)}
	if req.Config.Arch == sim.Elman && l == 0 {
		win := req.Config.Window()
		m.Recurrent, m.Hidden, m.Window, m.WindowWidth = true, uint32(len(layer.Neurons)), uint32(win.Steps), uint32(win.Width)
	}
	if req.Async != nil {
		var err error
		if m.AsyncOptions, err = json.Marshal(*req.Async); err != nil {
			return nil, err
		}
		m.Seed = req.Config.Seed
	}
	return m, nil
}

// Unplace asks every node, at once, to stop the run's neurons, and waits up
// to unplaceTimeout for their answers. It is best effort: a node that is
// gone has nothing left to stop, and one that hangs will see the neurons'
// run actor stop (they watch it).
func (e *Coordinator) Unplace(name string) {
	var fs []*actor.Future
	for _, addr := range e.nodes {
		fs = append(fs, e.sys.Root.RequestFuture(actor.NewPID(addr, nodeActorName), &wire.Unplace{Run: name, Proof: e.proof(addr)}, unplaceTimeout))
	}
	for _, f := range fs {
		_, _ = f.Result() // nothing to report to: the run's outcome is decided
	}
}

// unplaceTimeout bounds the removal of a finished run's neurons.
const unplaceTimeout = 2 * time.Second
