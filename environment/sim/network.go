package sim

import (
	"fmt"
	"math"

	"github.com/dopasim/dopasim/synapse"
)

// Layer is one layer of neurons. Layer 0 reads the task's inputs (one shared
// source of width InputWidth); every later layer reads each neuron of the
// layer before as a source of width 1, in index order.
type Layer struct {
	// Tag is the short layer name used in actor names: "h" (hidden), "o"
	// (output).
	Tag     string
	Neurons []*synapse.Neuron
}

// Network is the neurons of a run in canonical order: layers in order, then
// neurons by index. That order numbers the neurons for their random streams,
// orders the parameters in Params and digests, and fixes the order in which a
// neuron sums its sources.
type Network struct {
	Layers []Layer
}

// NeuronName returns the stable actor name of neuron i of a layer, for
// example "neuron/h/003".
func NeuronName(tag string, i int) string { return fmt.Sprintf("neuron/%s/%03d", tag, i) }

// Build creates the network of a run: a Hidden-neuron hidden layer and a
// TaskOrDefault().OutputWidth()-neuron output layer. Neuron number k (in
// canonical order) draws its initial parameters, weights then bias, from
// N(0, InitStd²) (MLP) or N(0, InitStd²/fan-in) (Elman) on stream
// synapse.Key(Seed, StreamInit, k), and its perturbations from stream
// synapse.Key(Seed, StreamNoise, k). An Elman hidden neuron's weights are
// its input weight, then its recurrent weights from h_0 … h_{H−1}.
func Build(c Config) (*Network, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	task := c.TaskOrDefault()
	std := c.InitStd
	if std == 0 {
		std = 1
	}
	specs := []struct {
		tag   string
		size  int
		fanIn int
		act   synapse.Activation
	}{
		{"h", c.Hidden, task.InputWidth(), c.HiddenActivation},
		{"o", task.OutputWidth(), c.Hidden, c.OutputActivation},
	}
	win := c.Window()
	if c.Arch == Elman {
		specs[0].fanIn = win.Width + c.Hidden // x(τ), then h_0(τ−1) … h_{H−1}(τ−1)
	}
	net := &Network{}
	k := uint64(0)
	from := 0 // the next of c.InitParams
	for _, s := range specs {
		layer := Layer{Tag: s.tag}
		cfg := c.neuronConfig(s.fanIn, s.act)
		if c.Arch == Elman && s.tag == "h" && c.NodePerturbation {
			P := task.Patterns()
			cfg.Steps = synapse.Steps{W: win.Steps, Patterns: P, Block: BlockPatterns(P, c.Hidden, c.Tracks())}
		}
		layerStd := std
		if c.Arch == Elman {
			layerStd = std / math.Sqrt(float64(s.fanIn))
		}
		for i := 0; i < s.size; i++ {
			params := make([]float64, cfg.Params())
			if c.InitParams != nil {
				from += copy(params, c.InitParams[from:])
			} else {
				synapse.InitNormal(params, synapse.NewSource(synapse.Key(c.Seed, synapse.StreamInit, k)), layerStd)
			}
			n, err := synapse.NewNeuron(cfg, synapse.Key(c.Seed, synapse.StreamNoise, k), params)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", NeuronName(s.tag, i), err)
			}
			layer.Neurons = append(layer.Neurons, n)
			k++
		}
		net.Layers = append(net.Layers, layer)
	}
	return net, nil
}

// ParamCount returns the number of parameters of c's network: every
// neuron's weights and bias.
func (c Config) ParamCount() int {
	task := c.TaskOrDefault()
	in, out := task.InputWidth(), task.OutputWidth()
	if c.Arch == Elman {
		in = c.Window().Width + c.Hidden // x(τ), then the layer's h(τ−1)
	}
	return c.Hidden*(in+1) + out*(c.Hidden+1)
}

// Size returns the number of neurons.
func (n *Network) Size() int {
	s := 0
	for _, l := range n.Layers {
		s += len(l.Neurons)
	}
	return s
}

// Neurons returns every neuron in canonical order.
func (n *Network) Neurons() []*synapse.Neuron {
	var all []*synapse.Neuron
	for _, l := range n.Layers {
		all = append(all, l.Neurons...)
	}
	return all
}

// Params returns every parameter in canonical order (each neuron's weights,
// then its bias).
func (n *Network) Params() []float64 {
	var p []float64
	for _, nr := range n.Neurons() {
		p = nr.Params(p)
	}
	return p
}
