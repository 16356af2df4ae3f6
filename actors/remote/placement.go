package remote

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// A node's placements: how it checks, bounds and hosts the neurons a
// coordinator places on it.

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

// Bounds on a placement: a peer must not make a node allocate without
// limit.
const (
	maxPlacedFanIn    = 1 << 16
	maxPlacedPatterns = 1 << 16
)

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
	if !n.tokenOK(ctx, m.Proof) {
		n.refused(ctx.Sender(), "a placement: "+tokenRefusal(m.Proof))
		return nil, nil, &proofRefused{fmt.Sprintf("neuron %s: %s", m.Name, tokenRefusal(m.Proof))}
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
	ctx.Send(r.relay, &actors.RelayAdd{PID: pid})
	return pid, r.relay, nil
}

// placement is a placement as checkPlacement decoded it.
type placement struct {
	neuron *synapse.Neuron
	width  []int                // of each input slot
	window sim.Window           // a recurrent neuron's
	async  *actors.AsyncOptions // nil: sync
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
	p.window = sim.Window{Steps: int(m.Window), Width: max(int(m.WindowWidth), 1)}
	if m.Recurrent { // x(τ), then the layer's h(τ−1)
		sum = p.window.Width + int(m.Hidden)
	}
	if sum != cfg.FanIn || m.FanIn > maxPlacedFanIn || m.Patterns > maxPlacedPatterns || len(m.Down) > maxPlacedFanIn ||
		(m.Recurrent && (m.Window < 2 || m.Window > maxPlacedPatterns || m.WindowWidth > maxPlacedFanIn ||
			len(m.Width) != 1 || int(m.Width[0]) != p.window.Values())) {
		return p, fmt.Errorf("inconsistent or oversized placement (fan-in %d, inputs %d, patterns %d)", m.FanIn, sum, m.Patterns)
	}
	if m.LogLevel > uint32(msglog.All) {
		return p, fmt.Errorf("unknown log level %d", m.LogLevel)
	}
	if len(m.AsyncOptions) == 0 {
		return p, nil
	}
	p.async = &actors.AsyncOptions{}
	if err := json.Unmarshal(m.AsyncOptions, p.async); err != nil {
		return p, fmt.Errorf("bad asynchronous options: %v", err)
	}
	if m.Recurrent {
		return p, fmt.Errorf("recurrent neurons have no asynchronous mode")
	}
	// As in one process (here, with the inline dispatcher, the
	// connection's reader would wait, and every run on the connection with
	// it): the node's own dispatcher must honour the knobs.
	if err := p.async.Validate(n.opt.Dispatcher); err != nil {
		return p, fmt.Errorf("on this node: %v", err)
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
	var err error
	if r.relay, err = ctx.SpawnNamed(n.host.RelayProps(codecProps(ctx.ActorSystem().Address(), &n.crossed)), key+"/relay"); err != nil {
		return nil, err
	}
	n.runs[key] = r
	n.access.runs.Store(key, append([]string{m.Parent.Address}, m.Nodes...))
	return r, nil
}

// neuronProps builds a placed neuron's actor (actors.Host.NeuronProps),
// with the codec of its messages.
func (n *nodeActor) neuronProps(ctx actor.Context, m *wire.Place, p placement) *actor.Props {
	placed := actors.PlacedNeuron{Neuron: p.neuron, Index: int(m.Index), Slot: m.Slot, Patterns: int(m.Patterns), Width: p.width, Shared: m.Shared,
		Parent: m.Parent, Down: m.Down, Recurrent: m.Recurrent, Hidden: int(m.Hidden), Window: p.window, Async: p.async, Seed: m.Seed,
		LogLevel: msglog.Level(m.LogLevel), Run: m.Run, IDPrefix: placedPrefix(m.Parent.GetAddress(), m.Run+"/")}
	return n.host.NeuronProps(ctx.ActorSystem(), placed, codecProps(ctx.ActorSystem().Address(), &n.crossed))
}

// placedPrefix is what the ID of a neuron placed on a node for the run with
// prefix (its name and "/") of the coordinator at address coordinator
// starts with: the node actor's children are named by runKey.
func placedPrefix(coordinator, prefix string) string {
	return nodeActorName + "/" + coordinator + "/" + prefix
}
