package actors

import (
	"crypto/hmac"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/synapse"
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

// RemoteOptions are the transport settings of a node or a coordinator.
type RemoteOptions struct {
	// Listen is the host:port to listen on (port 0: any free port). The
	// host must be one the peers can reach: it is also the address they
	// reply to.
	Listen string
	// TLS, if set, secures every connection with mutual TLS: it is used
	// both to accept (it must require and verify client certificates) and
	// to dial (with its own certificate). Nil: plaintext.
	TLS *TLSConfig
	// Dispatcher schedules the neurons a node hosts.
	Dispatcher Dispatcher
	// Refused, if set, is told about each coordinator a node refuses at
	// the handshake (a node, or an Engine, may run without a terminal).
	Refused func(reason string)
	// Logger receives protoactor's own log lines (nil: discarded).
	Logger *zap.Logger
	// Token, if set, is a shared secret, which each side proves it holds
	// without sending it (token.go): a node with one refuses every
	// placement and removal from a coordinator that cannot, and a
	// coordinator with one places nothing on a node that cannot. Without
	// TLS it keeps other local users from placing neurons, feeding runs (a
	// run's actor names are unguessable, and learnt only from a placement)
	// or posing as a node.
	Token []byte
	// PeerLimits bound what one coordinator may place on a node (a node's
	// option; the zero value is DefaultPeerLimits).
	PeerLimits PeerLimits
	// MaxBytes bounds the memory, in bytes, that all the neurons placed on
	// a node at a time may take, as placedBytes estimates it from their
	// placements (a node's option; 0: no bound). A coordinator names its
	// own address, so only this bound holds whoever places.
	MaxBytes uint64
}

// placedBytes estimates the memory of a placed neuron, in bytes: its
// parameters with the perturbation's and the update's copies, and per
// pattern and track its inputs, outputs and a recurrent neuron's step
// buffers (about 10 values per pattern measured; 16 charged).
func placedBytes(m *wire.Place) uint64 {
	tracks := uint64(2)
	if m.TwoSided {
		tracks = 3
	}
	return 8 * (6*(uint64(m.FanIn)+1) + 16*tracks*uint64(m.Patterns))
}

// PeerLimits bound what one coordinator (one address) may have placed on a
// node at a time, over all its runs: a peer must not make the node allocate
// without limit. A field of 0 takes DefaultPeerLimits' value.
type PeerLimits struct {
	Neurons  int // neurons
	Synapses int // parameters: Σ (fan-in + 1 for the bias) over its neurons
}

// DefaultPeerLimits fit the largest runs dopasim's own limits allow at a
// few seeds at once (the paper's network has 513 neurons and 263 000
// synapses), far below what would exhaust a node: 2^27 synapses are about
// 5 GiB of neuron state.
var DefaultPeerLimits = PeerLimits{Neurons: 1 << 14, Synapses: 1 << 27}

// orDefault fills the zero fields of l from DefaultPeerLimits.
func (l PeerLimits) orDefault() PeerLimits {
	if l.Neurons <= 0 {
		l.Neurons = DefaultPeerLimits.Neurons
	}
	if l.Synapses <= 0 {
		l.Synapses = DefaultPeerLimits.Synapses
	}
	return l
}

// TLSConfig is a mutual-TLS setup: Server accepts connections, Client dials.
type TLSConfig struct {
	Server, Client *tls.Config
}

// keepalive settings: a peer that stops answering is noticed after about
// keepaliveTime + keepaliveTimeout (gRPC does not ping more often than every
// 10 s).
const (
	keepaliveTime    = 10 * time.Second
	keepaliveTimeout = 5 * time.Second
)

// startRemote starts protoactor's remote on sys; acc (nil: none) decides
// what peers with a TLS certificate may send it. It returns the guard of its
// connections.
func startRemote(sys *actor.ActorSystem, opt RemoteOptions, acc *access) (*remote.Remote, *guard, error) {
	host, portText, err := net.SplitHostPort(opt.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("listen address %q: %v", opt.Listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, nil, fmt.Errorf("listen address %q: bad port", opt.Listen)
	}
	// protoactor's Start logs and returns on a failed listen; check first.
	l, err := net.Listen("tcp", opt.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %v", opt.Listen, err)
	}
	if port == 0 {
		port = l.Addr().(*net.TCPAddr).Port
	}
	l.Close()
	if opt.TLS != nil && (opt.TLS.Server == nil || opt.TLS.Client == nil || opt.TLS.Server.ClientAuth != tls.RequireAndVerifyClientCert) {
		return nil, nil, fmt.Errorf("TLS: want a client and a server side, the server requiring and verifying client certificates (mutual TLS)")
	}
	g := &guard{self: sys.Address, access: acc, tls: opt.TLS != nil}
	server := append(g.serverOptions(), grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveTime / 2, PermitWithoutStream: true}))
	dial := []grpc.DialOption{grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: keepaliveTime, Timeout: keepaliveTimeout, PermitWithoutStream: true})}
	if opt.TLS != nil {
		server = append(server, grpc.Creds(credentials.NewTLS(opt.TLS.Server)))
		dial = append(dial, grpc.WithTransportCredentials(credentials.NewTLS(opt.TLS.Client)))
	} else {
		dial = append(dial, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	// protoactor joins host and port with a colon: an IPv6 host needs its
	// brackets, or its listen fails on "too many colons".
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	cfg := remote.Configure(host, port, remote.WithServerOptions(server...), remote.WithDialOptions(dial...))
	// A send to a dead node is retried this many times, 2 s apart, before
	// it becomes a dead letter.
	cfg.MaxRetryCount = 1
	r := remote.NewRemote(sys, cfg)
	r.Start()
	return r, g, nil
}

// shutdownRemote stops a remote, within shutdownTimeout. The pinned
// protoactor's graceful shutdown panics when a peer's connection already
// ended with an error (it sends on the connection's closed channel), and
// waits for ever for an endpoint to a peer that hangs; in either case the
// server is stopped without the graceful part (and a goroutine stuck in the
// graceful part is left behind).
func shutdownRemote(r *remote.Remote) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if recover() != nil {
				r.Shutdown(false)
			}
		}()
		r.Shutdown(true)
	}()
	select {
	case <-done:
	case <-time.After(shutdownTimeout):
		r.Shutdown(false)
	}
}

// shutdownTimeout bounds a remote's graceful shutdown.
const shutdownTimeout = 5 * time.Second

// Node hosts neurons for coordinators (dopasim node).
type Node struct {
	sys   *actor.ActorSystem
	rem   *remote.Remote
	guard *guard
	pid   *actor.PID
	actor *nodeActor
}

// StartNode starts a node listening on opt.Listen.
func StartNode(opt RemoteOptions) (*Node, error) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(loggerFactory(opt.Logger)))
	acc := &access{}
	r, g, err := startRemote(sys, opt, acc)
	if err != nil {
		sys.Shutdown()
		return nil, err
	}
	n := &nodeActor{opt: opt, runs: map[string]*nodeRun{}, access: acc, reported: map[string]bool{}}
	if len(opt.Token) > 0 {
		n.challenge = newNonce(opt.Token)
		n.expectProof = coordinatorProof(opt.Token, n.challenge)
	}
	if opt.Dispatcher == Pool {
		n.pool = newWorkerPool()
	}
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
		if t, ok := ev.(*remote.EndpointTerminatedEvent); ok {
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
	if n.actor.pool != nil {
		n.actor.pool.close()
	}
}

// nodeActor answers the handshake and hosts the neurons of each run placed
// on the node (its children: a failing one is stopped, never restarted, and
// the coordinator, which watches it, fails the run).
type nodeActor struct {
	opt     RemoteOptions
	runs    map[string]*nodeRun // by coordinator address + "/" + run
	crossed atomic.Uint64       // messages its neurons sent to other processes
	access  *access             // who may send to each run's actors (mutual TLS)
	pool    *workerPool         // Dispatcher Pool: the workers of every run's neurons (nil otherwise)
	// With a token: the node's challenge and the proof that answers it
	// (token.go).
	challenge, expectProof []byte
	reported               map[string]bool // coordinators whose refusal was reported
}

type nodeRun struct {
	neurons  []*actor.PID
	relay    *actor.PID
	synapses int    // Σ (fan-in + 1) of its neurons: their parameters
	bytes    uint64 // Σ placedBytes of its neurons
}

// tokenOK reports whether a placement or removal carries the proof of the
// node's token (any does when the node has none), compared in constant time.
func (n *nodeActor) tokenOK(proof []byte) bool {
	return len(n.opt.Token) == 0 || hmac.Equal(proof, n.expectProof)
}

// tokenRefusal is why a message without the proof is refused.
func tokenRefusal(proof []byte) string {
	if len(proof) == 0 {
		return "this node was started with a token file: give the coordinator the same --token-file"
	}
	return "the coordinator's proof of the token is wrong (its --token-file is not this node's)"
}

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

// peerLoad is what the coordinator at addr has placed on the node.
func (n *nodeActor) peerLoad(addr string) (neurons, synapses int) {
	for key, r := range n.runs {
		if strings.HasPrefix(key, addr+"/") {
			neurons, synapses = neurons+len(r.neurons), synapses+r.synapses
		}
	}
	return neurons, synapses
}

// sizeText writes a size in bytes with a binary unit, to 3 significant
// digits.
func sizeText(b uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(b), 0
	for v >= 1024 && i < len(units)-1 {
		v, i = v/1024, i+1
	}
	return fmt.Sprintf("%.3g %s", v, units[i])
}

// checkLoad refuses a placement that would take the node past its bounds:
// the placing coordinator's PeerLimits, and MaxBytes over every run.
func (n *nodeActor) checkLoad(m *wire.Place) error {
	lim := n.opt.PeerLimits.orDefault()
	if neurons, synapses := n.peerLoad(m.Parent.Address); neurons+1 > lim.Neurons || synapses+int(m.FanIn)+1 > lim.Synapses {
		return fmt.Errorf("coordinator %s would have more than this node allows one peer: %d neurons and %d synapses placed, the limits are %d and %d (dopasim node --max-neurons, --max-synapses)",
			m.Parent.Address, neurons, synapses, lim.Neurons, lim.Synapses)
	}
	if n.opt.MaxBytes == 0 {
		return nil
	}
	var total uint64
	for _, r := range n.runs {
		total += r.bytes
	}
	if need := placedBytes(m); total+need > n.opt.MaxBytes {
		return fmt.Errorf("the node's neurons would take about %s (estimated: %s placed, this one %s), more than its --max-memory of %s",
			sizeText(total+need), sizeText(total), sizeText(need), sizeText(n.opt.MaxBytes))
	}
	return nil
}

func (n *nodeActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *wire.Hello:
		r := &wire.HelloReply{WireVersion: wire.Version(), Program: Program, Numerics: Numerics(), Reason: handshakeRefusal(m.WireVersion, m.Numerics, m.Program)}
		r.Accepted = r.Reason == ""
		if !r.Accepted {
			n.refused(ctx.Sender(), r.Reason)
		}
		if len(n.opt.Token) > 0 {
			r.TokenRequired, r.Challenge = true, n.challenge
			if len(m.Nonce) == nonceBytes {
				r.Proof = nodeProof(n.opt.Token, m.Nonce)
			}
		}
		ctx.Respond(r)
	case *wire.Place:
		pid, relay, err := n.place(ctx, m)
		reply := &wire.Placed{Pid: pid, Relay: relay}
		if err != nil {
			reply.Error = err.Error()
		}
		ctx.Respond(reply)
	case *wire.Unplace:
		if n.tokenOK(m.Proof) {
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

// Bounds on a placement: a peer must not make a node allocate without
// limit.
const (
	maxPlacedFanIn    = 1 << 16
	maxPlacedPatterns = 1 << 16
)

// Runs returns how many coordinators' runs have neurons on the node.
func (n *Node) Runs() (int, error) {
	res, err := n.sys.Root.RequestFuture(n.pid, runsQuery{}, requestTimeout).Result()
	if err != nil {
		return 0, err
	}
	return res.(int), nil
}

// runKey names a coordinator's run on a node.
func runKey(from *actor.PID, run string) string {
	addr := "?"
	if from != nil {
		addr = from.Address
	}
	return addr + "/" + run
}

// place spawns one neuron of a run, and the run's relay with the first.
func (n *nodeActor) place(ctx actor.Context, m *wire.Place) (pid, relay *actor.PID, err error) {
	if !n.tokenOK(m.Proof) {
		n.refused(ctx.Sender(), "a placement: "+tokenRefusal(m.Proof))
		return nil, nil, fmt.Errorf("neuron %s: %s", m.Name, tokenRefusal(m.Proof))
	}
	p, err := n.checkPlacement(m)
	if err != nil {
		return nil, nil, fmt.Errorf("neuron %s: %v", m.Name, err)
	}
	if s := ctx.Sender(); s == nil || s.Address != m.Parent.Address {
		// Only a coordinator places the neurons of its own runs (with
		// mutual TLS, the guard checked that the sender is on its host).
		return nil, nil, fmt.Errorf("neuron %s: placement for the run of %s from %v", m.Name, m.Parent.Address, s)
	}
	if err := n.checkLoad(m); err != nil {
		return nil, nil, fmt.Errorf("neuron %s: %v", m.Name, err)
	}
	key := runKey(m.Parent, m.Run)
	r, err := n.runOf(ctx, key, m)
	if err != nil {
		return nil, nil, err
	}
	if pid, err = ctx.SpawnNamed(n.neuronProps(ctx, m, p), key+"/"+m.Name); err != nil {
		return nil, nil, err
	}
	r.neurons = append(r.neurons, pid)
	r.synapses += int(m.FanIn) + 1
	r.bytes += placedBytes(m)
	ctx.Send(r.relay, &relayAdd{pid: pid})
	return pid, r.relay, nil
}

// placement is a placement as checkPlacement decoded it.
type placement struct {
	neuron *synapse.Neuron
	width  []int         // of each input slot
	async  *AsyncOptions // nil: sync
}

// checkPlacement decodes a placement and refuses one that is incomplete,
// inconsistent, oversized or that this node cannot host.
func (n *nodeActor) checkPlacement(m *wire.Place) (placement, error) {
	var p placement
	cfg := synapse.Config{FanIn: int(m.FanIn), Activation: synapse.Activation(m.Activation), Sigma: m.Sigma, Norm: synapse.Norm(m.Norm), TwoSided: m.TwoSided}
	var err error
	if p.neuron, err = synapse.NewNeuron(cfg, m.NoiseKey, m.Params); err != nil {
		return p, err
	}
	if len(m.Width) == 0 || m.Patterns == 0 || m.Parent == nil || len(m.Down) == 0 {
		return p, fmt.Errorf("incomplete placement")
	}
	sum := 0
	for _, w := range m.Width {
		p.width = append(p.width, int(w))
		sum += int(w)
	}
	if m.Recurrent { // x(τ), then the layer's h(τ−1)
		sum = 1 + int(m.Hidden)
	}
	if sum != cfg.FanIn || m.FanIn > maxPlacedFanIn || m.Patterns > maxPlacedPatterns || len(m.Down) > maxPlacedFanIn ||
		(m.Recurrent && (m.Window < 2 || m.Window > maxPlacedPatterns)) {
		return p, fmt.Errorf("inconsistent or oversized placement (fan-in %d, inputs %d, patterns %d)", m.FanIn, sum, m.Patterns)
	}
	if m.LogLevel > uint32(msglog.All) {
		return p, fmt.Errorf("unknown log level %d", m.LogLevel)
	}
	if len(m.AsyncOptions) == 0 {
		return p, nil
	}
	p.async = &AsyncOptions{}
	switch err := json.Unmarshal(m.AsyncOptions, p.async); {
	case err != nil:
		return p, fmt.Errorf("bad asynchronous options: %v", err)
	case m.Recurrent:
		return p, fmt.Errorf("recurrent neurons have no asynchronous mode")
	case p.async.MailboxFull == OverflowBlock && n.opt.Dispatcher != Goroutine:
		// As in one process: with the inline dispatcher a sender could
		// wait on itself (here, the connection's reader would wait, and
		// every run on the connection with it).
		return p, fmt.Errorf("mailboxes that block when full need a node started with --dispatcher goroutine")
	}
	return p, nil
}

// runOf returns the node's part of the run key, creating it (with its
// relay) for the run's first placement.
func (n *nodeActor) runOf(ctx actor.Context, key string, m *wire.Place) (*nodeRun, error) {
	if r := n.runs[key]; r != nil {
		return r, nil
	}
	r := &nodeRun{}
	rl := &relayActor{}
	relayOpts := append(n.opt.Dispatcher.props(n.pool), codecProps(ctx.ActorSystem().Address(), &n.crossed)...)
	var err error
	if r.relay, err = ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return rl }, relayOpts...), key+"/relay"); err != nil {
		return nil, err
	}
	n.runs[key] = r
	n.access.runs.Store(key, append([]string{m.Parent.Address}, m.Nodes...))
	return r, nil
}

// neuronProps builds a placed neuron's actor: recurrent, async or sync,
// with the codec of its messages and, if its run is logged, the shipping of
// its records.
func (n *nodeActor) neuronProps(ctx actor.Context, m *wire.Place, p placement) *actor.Props {
	codec := codecProps(ctx.ActorSystem().Address(), &n.crossed)
	na := &neuronActor{core: newNeuronCore(p.neuron, int(m.Patterns), p.width, m.Shared), index: int(m.Index), slot: m.Slot,
		runLink: runLink{parent: m.Parent, placed: true}, down: m.Down}
	var progress neuronProgress
	if !m.Recurrent {
		progress = na.core
	}
	if sl := newShipLog(m, p.neuron, progress); sl != nil {
		codec = sl.props(codec)
	}
	opts := append(n.opt.Dispatcher.props(n.pool), codec...)
	var a actor.Actor = na
	switch {
	case m.Recurrent:
		a = &recurrentActor{core: newRecurrentCore(p.neuron, int(m.Hidden), int(m.Window), int(m.Patterns), 0), index: int(m.Index), slot: m.Slot,
			runLink: runLink{parent: m.Parent, placed: true}, readout: m.Down}
	case p.async != nil:
		na.makeAsync(*p.async, m.Seed, func() *wallLine { return newWallLine(ctx.ActorSystem().Root) })
		if na.mb != nil {
			opts = append(opts, na.mb.props())
		}
	}
	return actor.PropsFromProducer(func() actor.Actor { return a }, opts...)
}

// relayActor passes each sync-mode broadcast to the run's neurons on its
// node: one message crosses the network per node, not one per neuron.
type relayActor struct {
	neurons []*actor.PID
}

func (r *relayActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *relayAdd:
		r.neurons = append(r.neurons, m.pid)
	case *broadcast:
		for _, pid := range r.neurons {
			ctx.Send(pid, m.sig)
		}
	}
}
