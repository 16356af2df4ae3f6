package remote

import (
	"errors"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	protoremote "github.com/asynkron/protoactor-go/remote"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/wire"
)

// Scale-out (docs/scale-out.md): a node is a process whose actor system
// hosts neurons for coordinators that ask; a coordinator is an Engine with
// Options.Nodes, which keeps the environment and the dopamine actor and
// places the neurons on the nodes. Both talk through protoactor's remote
// (gRPC) with the protobuf messages of package wire.

// nodeActorName is the well-known name of the actor every node runs: it
// answers the handshake and places and removes neurons.
const nodeActorName = "dopasim"

// Program names this build in the handshake, for error messages.
var Program = "dopasim"

// Node hosts neurons for coordinators (dopasim node).
type Node struct {
	sys   *actor.ActorSystem
	rem   *protoremote.Remote
	guard *guard
	pid   *actor.PID
	actor *nodeActor
}

// StartNode starts a node listening on opt.Listen.
func StartNode(opt Options) (*Node, error) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(actors.LoggerFactory(opt.Logger)))
	acc := &access{}
	r, g, err := startRemote(sys, opt, acc)
	if err != nil {
		sys.Shutdown()
		return nil, err
	}
	n := &nodeActor{opt: opt, runs: map[string]*nodeRun{}, access: acc, reported: map[string]bool{}, host: actors.NewHost(opt.Dispatcher)}
	props := actor.PropsFromProducer(func() actor.Actor { return n }, actor.WithReceiverMiddleware(refusePoisonPill),
		actor.WithSupervisor(actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.StopDirective })))
	pid, err := sys.Root.SpawnNamed(props, nodeActorName)
	if err != nil {
		shutdownRemote(r)
		sys.Shutdown()
		return nil, err
	}
	// A coordinator whose connection ends (it died, or it placed neurons
	// and vanished before its run actor could be watched): its runs go.
	sys.EventStream.Subscribe(func(ev any) {
		if t, ok := ev.(*protoremote.EndpointTerminatedEvent); ok {
			sys.Root.Send(pid, &peerGone{addr: t.Address})
		}
	})
	return &Node{sys: sys, rem: r, guard: g, pid: pid, actor: n}, nil
}

// Dropped returns how many envelopes the node dropped as it received them:
// of a type it does not know, addressed to another name, or, with mutual
// TLS, from a peer not allowed to send them (see access).
func (n *Node) Dropped() uint64 { return n.guard.dropped.Load() }

// CrossNode returns how many messages the node's neurons have sent to other
// processes.
func (n *Node) CrossNode() uint64 { return n.actor.crossed.Load() }

// Addr returns the address the node listens on.
func (n *Node) Addr() string { return n.sys.Address() }

// Close stops the node and every neuron on it.
func (n *Node) Close() {
	n.sys.Root.StopFuture(n.pid).Wait()
	shutdownRemote(n.rem)
	n.sys.Shutdown()
	n.actor.host.Close()
}

// nodeActor answers the handshake and hosts the neurons of each run placed
// on the node (its children: a failing one is stopped, never restarted, and
// the coordinator, which watches it, fails the run).
type nodeActor struct {
	opt        Options
	runs       map[string]*nodeRun // by coordinator address + "/" + run
	crossed    atomic.Uint64       // messages its neurons sent to other processes
	access     *access             // who may send to each run's actors (mutual TLS)
	host       *actors.Host        // builds the placed neurons' actors
	challenges challenges          // given to coordinators, with a token (token.go)
	reported   map[string]bool     // coordinators whose refusal was reported
}

type nodeRun struct {
	neurons  []*actor.PID
	relay    *actor.PID
	synapses int    // Σ (fan-in + 1) of its neurons: their parameters
	bytes    uint64 // Σ placedBytes of its neurons
}

// tokenOK reports whether a placement or removal from sender carries the
// proof of the node's token for the challenge the node gave it (any does
// when the node has none).
func (n *nodeActor) tokenOK(ctx actor.Context, proof []byte) bool {
	if len(n.opt.Token) == 0 {
		return true
	}
	s := ctx.Sender()
	return s != nil && n.challenges.proofOK(n.opt.Token, proof, s.Address, ctx.ActorSystem().Address())
}

// tokenRefusal is why a message without the proof is refused.
func tokenRefusal(proof []byte) string {
	if len(proof) == 0 {
		return "this node was started with a token file: give the coordinator the same --token-file"
	}
	return "the coordinator's proof of the token is wrong or stale (its --token-file is not this node's, or the node restarted since the handshake)"
}

// proofRefused is a placement refused for its proof of the token.
type proofRefused struct{ msg string }

func (e *proofRefused) Error() string { return e.msg }

// refused tells the node's user about a coordinator it refused, once per
// coordinator address (a prober must not flood the terminal).
func (n *nodeActor) refused(from *actor.PID, why string) {
	addr := "a coordinator"
	if from != nil {
		addr = "coordinator " + from.Address
	}
	if n.opt.Refused == nil || n.reported[addr] || len(n.reported) >= maxReported {
		return
	}
	n.reported[addr] = true
	n.opt.Refused(addr + ": " + why)
}

// maxReported bounds how many refused coordinators a node reports.
const maxReported = 100

func (n *nodeActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *wire.Hello:
		r := &wire.HelloReply{WireVersion: wire.Version(), Program: Program, Numerics: Numerics(), Reason: handshakeRefusal(m.WireVersion, m.Numerics, m.Program)}
		r.Accepted = r.Reason == ""
		if !r.Accepted {
			n.refused(ctx.Sender(), r.Reason)
		}
		if s := ctx.Sender(); len(n.opt.Token) > 0 {
			r.TokenRequired = true
			// A probe (no nonce) leaves the coordinator's challenge as it
			// was: its placements still answer it.
			if len(m.Nonce) == nonceBytes && s != nil {
				r.Challenge = n.challenges.issue(s.Address)
				r.Proof = nodeProof(n.opt.Token, m.Nonce, r.Challenge, ctx.ActorSystem().Address(), s.Address)
			}
		}
		ctx.Respond(r)
	case *wire.Place:
		pid, relay, err := n.place(ctx, m)
		reply := &wire.Placed{Pid: pid, Relay: relay}
		if err != nil {
			var pr *proofRefused
			reply.Error, reply.ProofRefused = err.Error(), errors.As(err, &pr)
		}
		ctx.Respond(reply)
	case *wire.Unplace:
		if n.tokenOK(ctx, m.Proof) {
			n.unplace(ctx, runKey(ctx.Sender(), m.Run))
		} else {
			n.refused(ctx.Sender(), "a removal: "+tokenRefusal(m.Proof))
		}
		ctx.Respond(&wire.Unplaced{})
	case runsQuery:
		ctx.Respond(len(n.runs))
	case *peerGone:
		for key := range n.runs {
			if strings.HasPrefix(key, m.addr+"/") {
				n.unplace(ctx, key)
			}
		}
	case *actor.Terminated:
		// A neuron stopped (its run actor is gone: the run ended or the
		// coordinator died, see neuronActor): once a run has none left,
		// its relay goes too. Only a neuron that is really gone counts
		// (the guard keeps other processes' Terminated away; this is the
		// second line).
		if _, alive := ctx.ActorSystem().ProcessRegistry.GetLocal(m.Who.GetId()); alive || m.Who.GetAddress() != ctx.Self().Address {
			return
		}
		for key, r := range n.runs {
			r.neurons = slices.DeleteFunc(r.neurons, func(p *actor.PID) bool { return p.Equal(m.Who) })
			if len(r.neurons) == 0 {
				n.unplace(ctx, key)
			}
		}
	}
}

// unplace stops every actor of a run.
func (n *nodeActor) unplace(ctx actor.Context, key string) {
	if r := n.runs[key]; r != nil {
		for _, pid := range append(r.neurons, r.relay) {
			ctx.Stop(pid)
		}
		delete(n.runs, key)
		n.access.runs.Delete(key)
	}
}

// runsQuery asks a node actor how many runs it hosts (tests; local only).
type runsQuery struct{}

// peerGone tells a node actor that the connection to addr ended.
type peerGone struct{ addr string }

// Runs returns how many coordinators' runs have neurons on the node.
func (n *Node) Runs() (int, error) {
	res, err := n.sys.Root.RequestFuture(n.pid, runsQuery{}, requestTimeout).Result()
	if err != nil {
		return 0, err
	}
	return res.(int), nil
}
