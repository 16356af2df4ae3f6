package wire

import (
	"regexp"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

func TestVersionIsStableHex(t *testing.T) {
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(Version()) {
		t.Fatalf("Version() %q is not 16 hex digits", Version())
	}
}

// The handshake is frozen: its full names are what every version of a node
// looks up, so they must never move.
func TestHandshakeNamesAreFrozen(t *testing.T) {
	for _, name := range []string{"dopasim.handshake.Hello", "dopasim.handshake.HelloReply"} {
		if _, err := protoregistry.GlobalTypes.FindMessageByName(protoreflectName(name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A message survives the wire: marshal, unmarshal, equal.
func TestRoundTrip(t *testing.T) {
	msgs := []proto.Message{
		&Place{Run: "seed-1", Name: "h0", Index: 0, FanIn: 2, Sigma: 1e-3, NoiseKey: 42, Params: []float64{0.5, -1, 2}, Patterns: 4, Width: []uint32{2}, Shared: true, Parent: actor.NewPID("127.0.0.1:7400", "seed-1")},
		&Activation{Trial: 7, Slot: 3, Vals: []float64{1, 2, 3}},
		&Dopamine{Trial: 9, Delta: -0.25, Eta: 0.4},
		&Broadcast{Signal: &Dopamine{Trial: 1}},
		&Hello{WireVersion: Version(), Program: "dopasim"},
	}
	for _, m := range msgs {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		back := m.ProtoReflect().New().Interface()
		if err := proto.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(m, back) {
			t.Errorf("%T: %v came back as %v", m, m, back)
		}
	}
}

func protoreflectName(s string) protoreflect.FullName { return protoreflect.FullName(s) }
