package remote

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/actors/wire"
)

// The codec converts the run's messages to their protobuf form (package
// wire) when they leave a process and back when they arrive, so that the
// actors themselves only ever see their own Go types. protoactor's remote
// carries protobuf messages only: anything else would be dropped on the way.

// toWire returns the protobuf form of a message bound for another process,
// or nil if it has none (a message that must never cross).
func toWire(msg any) proto.Message {
	switch m := msg.(type) {
	case *protocol.Stimulus:
		return &wire.Stimulus{Trial: m.Trial, X: m.X, Lost: m.Lost}
	case *protocol.Activation:
		// A copy: a recurrent neuron reuses its output buffers once its
		// receivers have read them, and the remote encodes later.
		return &wire.Activation{Trial: m.Trial, Step: m.Step, Slot: m.Slot, Vals: slices.Clone(m.Vals), Lost: m.Lost, Upstream: m.Upstream}
	case *protocol.Dopamine:
		return dopamineWire(m)
	case *actors.Broadcast:
		return &wire.Broadcast{Signal: dopamineWire(m.Signal)}
	case *protocol.Finish:
		return &wire.Finish{Trial: m.Trial}
	case *actors.Wiring:
		return &wire.Wire{Down: m.Down, Peers: m.Peers}
	case *protocol.NeuronReport:
		return &wire.NeuronReport{Index: uint32(m.Index), Params: m.Params, Sent: m.Sent, Evals: m.Evals,
			ScratchBytes: m.ScratchBytes, Applied: m.Applied, In: m.In[:], Out: m.Out[:],
			Dropped: m.Dropped[:], Skipped: m.Skipped, Stale: m.Stale, Overtaken: m.Overtaken,
			Overflow: m.Overflow[:], Blocked: m.Blocked[:], Released: m.Released, HeldNs: int64(m.HeldSum)}
	case proto.Message:
		return m // already wire (the handshake, placement)
	}
	return nil
}

func dopamineWire(m *protocol.Dopamine) *wire.Dopamine {
	return &wire.Dopamine{Trial: m.Trial, Delta: m.Delta, Eta: m.Eta}
}

// fromWire returns the run's own form of a message that arrived from
// another process, or msg itself.
func fromWire(msg any) any {
	switch m := msg.(type) {
	case *wire.Stimulus:
		return &protocol.Stimulus{Trial: m.Trial, X: m.X, Lost: m.Lost}
	case *wire.Activation:
		return &protocol.Activation{Trial: m.Trial, Step: m.Step, Slot: m.Slot, Vals: m.Vals, Lost: m.Lost, Upstream: m.Upstream}
	case *wire.Dopamine:
		return &protocol.Dopamine{Trial: m.Trial, Delta: m.Delta, Eta: m.Eta}
	case *wire.Broadcast:
		return &actors.Broadcast{Signal: &protocol.Dopamine{Trial: m.Signal.GetTrial(), Delta: m.Signal.GetDelta(), Eta: m.Signal.GetEta()}}
	case *wire.Finish:
		return &protocol.Finish{Trial: m.Trial}
	case *wire.Wire:
		return &actors.Wiring{Down: m.Down, Peers: m.Peers}
	case *wire.NeuronReport:
		r := &protocol.NeuronReport{Index: int(m.Index), Params: m.Params, Sent: m.Sent, Evals: m.Evals,
			ScratchBytes: m.ScratchBytes, Applied: m.Applied, Skipped: m.Skipped, Stale: m.Stale,
			Overtaken: m.Overtaken, Released: m.Released, HeldSum: time.Duration(m.HeldNs)}
		for _, c := range []struct {
			dst *protocol.Counts
			src []uint64
		}{{&r.In, m.In}, {&r.Out, m.Out}, {&r.Dropped, m.Dropped}, {&r.Overflow, m.Overflow}, {&r.Blocked, m.Blocked}} {
			copy(c.dst[:], c.src)
		}
		return r
	}
	return msg
}

// codecProps returns the middleware of an actor that talks to other
// processes: what it sends to a PID of another address is converted to
// wire form, and what it receives in wire form is converted back.
//
// crossed, if not nil, counts the messages sent to other processes.
func codecProps(local string, crossed *atomic.Uint64) []actor.PropsOption {
	send := func(next actor.SenderFunc) actor.SenderFunc {
		return func(c actor.SenderContext, target *actor.PID, env *actor.MessageEnvelope) {
			if target.Address != local {
				w := toWire(env.Message)
				if w == nil {
					// protoactor would drop it silently on the way.
					panic(fmt.Errorf("a %T cannot be sent to another process (%s)", env.Message, target.Address))
				}
				env = &actor.MessageEnvelope{Header: env.Header, Message: w, Sender: env.Sender}
				if crossed != nil {
					crossed.Add(1)
				}
			}
			next(c, target, env)
		}
	}
	recv := func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			if m := fromWire(env.Message); m != env.Message {
				env = &actor.MessageEnvelope{Header: env.Header, Message: m, Sender: env.Sender}
			}
			next(c, env)
		}
	}
	return []actor.PropsOption{actor.WithSenderMiddleware(send), actor.WithReceiverMiddleware(recv)}
}
