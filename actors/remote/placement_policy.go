package remote

import "fmt"

// Placement is how a coordinator spreads a network's neurons over its nodes.
type Placement uint8

const (
	// RoundRobin places neuron k (canonical index) on node k mod N.
	RoundRobin Placement = iota
	// ByLayer places layer l on node l mod N: only the messages between
	// layers cross the network.
	ByLayer
)

// String returns the placement's flag name.
func (p Placement) String() string {
	if p == ByLayer {
		return "layer"
	}
	return "round-robin"
}

// ParsePlacement returns the placement named s.
func ParsePlacement(s string) (Placement, error) {
	switch s {
	case "round-robin":
		return RoundRobin, nil
	case "layer":
		return ByLayer, nil
	}
	return 0, fmt.Errorf("unknown placement %q (want round-robin or layer)", s)
}
