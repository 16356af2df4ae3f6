package remote

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	protoremote "github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// The pinned protoactor remote trusts what arrives: a message of a type this
// build does not know crashes the process (its deserializer ignores the
// lookup error), an index out of range panics, and a message addressed to
// this process under another name (localhost:7400 for 127.0.0.1:7400) is
// sent on to that name, which is this process again, for ever. The guard
// drops such envelopes before protoactor's reader sees them, and turns a
// panic in the reader into a closed connection.

// guard counts the envelopes it dropped.
type guard struct {
	self func() string // this process's address
	// access, if set, decides what a peer may send (see access).
	access *access
	// tls: connections must carry a client certificate verified against
	// the CA (mutual TLS); one without is refused.
	tls     bool
	dropped atomic.Uint64
}

// receiveMethod is protoactor's message stream, the only gRPC method a peer
// may call: the pinned remote's other handlers (ListProcesses,
// GetProcessDiagnostics) panic, which gRPC does not recover.
const receiveMethod = "/remote.Remoting/Receive"

// serverOptions returns the gRPC interceptors that apply the guard.
func (g *guard) serverOptions() []grpc.ServerOption {
	stream := grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		if info.FullMethod != receiveMethod {
			return status.Errorf(codes.Unimplemented, "%s is not served", info.FullMethod)
		}
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("remote message handling failed: %v", p)
			}
		}()
		s := &guardedStream{ServerStream: ss, g: g}
		if g.tls {
			if s.peer = verifiedPeer(ss.Context()); s.peer == nil {
				return status.Error(codes.Unauthenticated, "no client certificate verified against the CA")
			}
		}
		return handler(srv, s)
	})
	unary := grpc.UnaryInterceptor(func(_ context.Context, _ any, info *grpc.UnaryServerInfo, _ grpc.UnaryHandler) (any, error) {
		return nil, status.Errorf(codes.Unimplemented, "%s is not served", info.FullMethod)
	})
	return []grpc.ServerOption{stream, unary}
}

// verifiedPeer returns the hosts of the connection's client certificate, as
// verified against the CA by the TLS handshake, or nil.
func verifiedPeer(ctx context.Context) *peerHosts {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	t, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(t.State.VerifiedChains) == 0 || len(t.State.VerifiedChains[0]) == 0 {
		return nil
	}
	return &peerHosts{cert: t.State.VerifiedChains[0][0]}
}

type guardedStream struct {
	grpc.ServerStream
	g    *guard
	peer *peerHosts // the peer's certificate, with mutual TLS (nil: none)
}

func (s *guardedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	rm, ok := m.(*protoremote.RemoteMessage)
	if !ok {
		return nil
	}
	if b := rm.GetMessageBatch(); b != nil {
		self := s.g.self()
		kept := b.Envelopes[:0]
		for _, e := range b.Envelopes {
			if envelopeOK(b, e, self) && s.allowed(b, e) {
				kept = append(kept, e)
			} else {
				s.g.dropped.Add(1)
			}
		}
		b.Envelopes = kept
	}
	return nil
}

// envelopeOK reports whether protoactor's reader can deliver e here: a
// protobuf type this build knows, indices in range, and a target at this
// process's own address.
func envelopeOK(b *protoremote.MessageBatch, e *protoremote.MessageEnvelope, self string) bool {
	if e == nil || e.SerializerId != 0 || e.TypeId < 0 || int(e.TypeId) >= len(b.TypeNames) {
		return false
	}
	if _, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(b.TypeNames[e.TypeId])); err != nil {
		return false
	}
	if e.Target < 0 || int(e.Target) >= len(b.Targets) || e.Sender < 0 || int(e.Sender) > len(b.Senders) {
		return false
	}
	t := b.Targets[e.Target]
	return t != nil && t.Address == self
}

// allowed applies the access rules to an envelope that envelopeOK passed.
func (s *guardedStream) allowed(b *protoremote.MessageBatch, e *protoremote.MessageEnvelope) bool {
	if s.g.access == nil {
		return true
	}
	var sender *actor.PID
	if e.Sender > 0 { // protoactor's encoding: 0 for none, else index + 1
		sender = b.Senders[e.Sender-1]
	}
	return s.g.access.allow(b.Targets[e.Target], sender, b.TypeNames[e.TypeId], s.peer)
}

// refusePoisonPill is receiver middleware for actors a peer must not stop
// from outside (a node's well-known actor).
func refusePoisonPill(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		if _, ok := env.Message.(*actor.PoisonPill); ok {
			return
		}
		next(c, env)
	}
}
