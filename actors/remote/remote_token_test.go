//go:build !race

// Tokens: a node with one places nothing for a coordinator that cannot
// prove it holds it, and the proofs bind the two addresses. Built without
// -race, as the other remote tests (remote_test.go says why).

package remote

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/neuromod"
	"google.golang.org/protobuf/proto"
)

// With a token each side proves it holds it, without sending it: a
// coordinator without the token, or with another, places nothing and says
// why; a placement sent without the handshake's proof is refused, and the
// node reports it; a coordinator with a token places nothing on a node
// started without one, nor on a program that poses as the node (which sees
// nothing of the token); the coordinator with the token runs as in one
// process.
func TestRemoteTokenIsRequired(t *testing.T) {
	token := []byte("a-shared-secret-of-32-bytes-here")
	refused := make(chan string, 4)
	node, err := StartNode(Options{Listen: "127.0.0.1:0", Token: token, Refused: func(r string) { refused <- r }})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 1)
	runOn := func(addr string, token []byte) error {
		e := actors.NewEngine(actors.Options{Placer: NewCoordinator([]string{addr}, RoundRobin, Options{Listen: "127.0.0.1:0", Token: token})})
		defer e.Close()
		_, err := e.Run(context.Background(), cfg)
		return err
	}
	for _, c := range []struct {
		token []byte
		want  string
	}{
		{nil, "give the coordinator the same --token-file"},
		{[]byte("another-secret-of-32-bytes-here!"), "could not prove it holds this coordinator's token"},
	} {
		if err := runOn(node.Addr(), c.token); err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("token %q: err %v, want a refusal saying %q", c.token, err, c.want)
		}
	}
	// A placement straight away, without the handshake's proof.
	sys := remoteSystem(t)
	parent := actor.NewPID(sys.Address(), "seed-1.x.1")
	place := &wire.Place{Run: "seed-1.x.1", Name: "neuron/h/000", FanIn: 3, Params: []float64{1, 2, 3}, Patterns: 4, Width: []uint32{2},
		Shared: true, Parent: parent, Down: []*actor.PID{parent}, Proof: []byte("guess")}
	res, err := sys.Root.RequestFuture(actor.NewPID(node.Addr(), nodeActorName), place, requestTimeout).Result()
	if err != nil {
		t.Fatal(err)
	}
	if p := res.(*wire.Placed); p.Pid != nil || !strings.Contains(p.Error, "proof of the token is wrong") {
		t.Errorf("a placement without the proof was answered %v", p)
	}
	if r := <-refused; !strings.Contains(r, "a placement: the coordinator's proof of the token is wrong") {
		t.Errorf("the node reported %q", r)
	}
	if runs, err := node.Runs(); err != nil || runs != 0 {
		t.Errorf("the node hosts %d runs (%v) after a placement without the proof", runs, err)
	}
	// A node without a token, and a program posing as a node.
	if err := runOn(startNode(t).Addr(), token); err == nil || !strings.Contains(err.Error(), "started without --token-file") {
		t.Errorf("a node without a token: err %v", err)
	}
	impostor := remoteSystem(t)
	hellos := make(chan *wire.Hello, 1)
	if _, err := impostor.Root.SpawnNamed(actor.PropsFromFunc(func(ctx actor.Context) {
		if h, ok := ctx.Message().(*wire.Hello); ok {
			hellos <- h
			ctx.Respond(&wire.HelloReply{WireVersion: wire.Version(), Program: Program, Numerics: Numerics(), Accepted: true,
				TokenRequired: true, Challenge: make([]byte, nonceBytes), Proof: make([]byte, 32)})
		}
	}), nodeActorName); err != nil {
		t.Fatal(err)
	}
	if err := runOn(impostor.Address(), token); err == nil || !strings.Contains(err.Error(), "could not prove it holds this coordinator's token") {
		t.Errorf("an impostor: err %v", err)
	}
	if raw, err := proto.Marshal(<-hellos); err != nil || bytes.Contains(raw, token) {
		t.Errorf("the impostor saw the token in the Hello (%v)", err)
	}
	want, err := actors.Run(context.Background(), cfg, actors.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := actors.NewEngine(actors.Options{Placer: NewCoordinator([]string{node.Addr()}, RoundRobin, Options{Listen: "127.0.0.1:0", Token: token})})
	defer e.Close()
	got, err := e.Run(context.Background(), cfg)
	if err != nil || got.Digest != want.Digest {
		t.Errorf("with the token: %v, digest %s, want %s", err, got.Digest, want.Digest)
	}
}

// A program at a node's address that relays the handshake to a real node
// with the token gets nothing it can use: the coordinator refuses the
// relayed proof (it is bound to the other node's address and to the relay
// as the sender), and a coordinator's proof made for one node, or for
// another sender, does not place a neuron on another.
func TestRemoteTokenProofsAreBoundToTheirAddresses(t *testing.T) {
	token := []byte("a-shared-secret-of-32-bytes-here")
	node, err := StartNode(Options{Listen: "127.0.0.1:0", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	relay := remoteSystem(t)
	nodePID := actor.NewPID(node.Addr(), nodeActorName)
	if _, err := relay.Root.SpawnNamed(actor.PropsFromFunc(func(ctx actor.Context) {
		if h, ok := ctx.Message().(*wire.Hello); ok {
			if r, err := relay.Root.RequestFuture(nodePID, h, requestTimeout).Result(); err == nil {
				ctx.Respond(r)
			}
		}
	}), nodeActorName); err != nil {
		t.Fatal(err)
	}
	e := actors.NewEngine(actors.Options{Placer: NewCoordinator([]string{relay.Address()}, RoundRobin, Options{Listen: "127.0.0.1:0", Token: token})})
	defer e.Close()
	if _, err := e.Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 1)); err == nil || !strings.Contains(err.Error(), "could not prove it holds this coordinator's token") {
		t.Errorf("a relayed handshake: err %v", err)
	}
	// The relay asks the node for a challenge of its own, then places with
	// proofs made for other addresses, and with the right one.
	nonce := newNonce(token)
	res, err := relay.Root.RequestFuture(nodePID, helloMessage(nonce), requestTimeout).Result()
	if err != nil {
		t.Fatal(err)
	}
	challenge := res.(*wire.HelloReply).Challenge
	place := func(proof []byte) *wire.Placed {
		parent := actor.NewPID(relay.Address(), "seed-1.x.1")
		m := &wire.Place{Run: "seed-1.x.1", Name: "neuron/h/000", FanIn: 2, Sigma: 1e-3, Params: []float64{1, 2, 3}, Patterns: 4, Width: []uint32{2},
			Shared: true, Parent: parent, Down: []*actor.PID{parent}, Proof: proof}
		res, err := relay.Root.RequestFuture(nodePID, m, requestTimeout).Result()
		if err != nil {
			t.Fatal(err)
		}
		return res.(*wire.Placed)
	}
	for name, proof := range map[string][]byte{
		"made for another node":   coordinatorProof(token, challenge, relay.Address(), "127.0.0.1:1"),
		"made for another sender": coordinatorProof(token, challenge, "127.0.0.1:2", node.Addr()),
		"under another token":     coordinatorProof([]byte("another-secret-of-32-bytes-here!"), challenge, relay.Address(), node.Addr()),
	} {
		if p := place(proof); p.Pid != nil || !p.ProofRefused {
			t.Errorf("a proof %s was answered %v", name, p)
		}
	}
	if p := place(coordinatorProof(token, challenge, relay.Address(), node.Addr())); p.Pid == nil {
		t.Errorf("the right proof was refused: %v", p.Error)
	}
}

// A node that restarts draws new challenges: the engine that placed on it
// before shakes hands again on its first refused placement and runs on.
func TestRemoteTokenNodeRestart(t *testing.T) {
	token := []byte("a-shared-secret-of-32-bytes-here")
	node, err := StartNode(Options{Listen: "127.0.0.1:0", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	addr := node.Addr()
	e := actors.NewEngine(actors.Options{Placer: NewCoordinator([]string{addr}, RoundRobin, Options{Listen: "127.0.0.1:0", Token: token})})
	defer e.Close()
	if _, err := e.Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 1)); err != nil {
		t.Fatal(err)
	}
	node.Close()
	if node, err = StartNode(Options{Listen: addr, Token: token}); err != nil {
		t.Skipf("the node's port could not be taken again: %v", err)
	}
	defer node.Close()
	want, err := actors.Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 2), actors.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 2))
	if err != nil || got.Digest != want.Digest {
		t.Errorf("after the node restarted: %v, digest %s, want %s", err, got.Digest, want.Digest)
	}
}
