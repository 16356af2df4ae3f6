//go:build !race

// Who may place and send on nodes: mutual TLS, forged messages, tokens and
// the limits of what a peer may place. Built without -race, as the other
// remote tests (remote_test.go says why).

package actors

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// testPKI returns a mutual-TLS setup signed by a fresh CA, for 127.0.0.1.
func testPKI(t *testing.T) *TLSConfig { return newTestCA(t).peer(t, net.IPv4(127, 0, 0, 1)) }

// testCA is a certificate authority for tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dopasim test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// peer returns a mutual-TLS setup for a peer at ip, signed by the CA.
func (ca *testCA) peer(t *testing.T, ip net.IP) *TLSConfig {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "dopasim peer " + ip.String()},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{ip},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return &TLSConfig{
		Server: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: ca.pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13},
		Client: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: ca.pool, MinVersion: tls.VersionTLS13},
	}
}

// With mutual TLS a coordinator holding a certificate of the node's CA runs
// as usual; one with another CA's certificate, or none, is refused.
func TestRemoteMutualTLS(t *testing.T) {
	pki := testPKI(t)
	var addrs []string
	for range 2 { // round-robin: activations cross between the nodes too
		node, err := StartNode(RemoteOptions{Listen: "127.0.0.1:0", TLS: pki})
		if err != nil {
			t.Fatal(err)
		}
		defer node.Close()
		addrs = append(addrs, node.Addr())
	}
	node := addrs[0]
	cfg := xorConfig(neuromod.Dopamine1, 2)
	want, err := Run(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(Options{Nodes: addrs, Remote: RemoteOptions{Listen: "127.0.0.1:0", TLS: pki}})
	got, err := e.Run(context.Background(), cfg)
	if err != nil || got.Digest != want.Digest {
		t.Errorf("with the right certificate: %v, digest %s, want %s", err, got.Digest, want.Digest)
	}
	e.Close()
	for name, tlsCfg := range map[string]*TLSConfig{"another CA": testPKI(t), "no TLS": nil} {
		e := NewEngine(Options{Nodes: []string{node}, Remote: RemoteOptions{Listen: "127.0.0.1:0", TLS: tlsCfg}})
		if _, err := e.Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "handshake") {
			t.Errorf("%s: err %v, want no handshake", name, err)
		}
		e.Close()
	}
}

// What a node must survive from a peer: a message of a type it does not
// know (the pinned protoactor would crash), a message addressed to it under
// another name (it would forward it to itself for ever), a PoisonPill, a
// Stop and a made-up Terminated for its well-known actor (the first two
// would stop it, the last remove a run), and a call of protoactor's other
// gRPC methods (which panic, and gRPC does not recover).
func TestRemoteNodeSurvivesBadMessages(t *testing.T) {
	node := startNode(t)
	sys := remoteSystem(t)
	target := actor.NewPID(node.Addr(), nodeActorName)
	conn, err := grpc.NewClient(node.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := remote.NewRemotingClient(conn).ListProcesses(context.Background(), &remote.ListProcessesRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("ListProcesses: err %v, want Unimplemented", err)
	}
	sys.Root.Stop(target)
	sys.Root.Send(target, &actor.Terminated{Who: actor.NewPID(node.Addr(), placedPrefix(sys.Address(), "seed-1.x.1/")+"neuron/h/000")})
	// An unknown type: a dynamic message whose descriptor only the sender has.
	fd := protodesc.ToFileDescriptorProto(wire.File_wire_proto)
	fd.Name = proto.String("unknown.proto")
	fd.Package = proto.String("unknown.v1")
	fd.Dependency = nil
	fd.MessageType = []*descriptorpb.DescriptorProto{{Name: proto.String("Mystery"),
		Field: []*descriptorpb.FieldDescriptorProto{{Name: proto.String("x"), Number: proto.Int32(1), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}}}}
	file, err := protodesc.NewFile(fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	sys.Root.Send(target, dynamicpb.NewMessage(file.Messages().Get(0)))
	// Another name for the node.
	_, port, _ := net.SplitHostPort(node.Addr())
	if _, err := sys.Root.RequestFuture(actor.NewPID("localhost:"+port, nodeActorName), helloMessage(nil), time.Second).Result(); err == nil {
		t.Error("a message to the node under another name was answered")
	}
	sys.Root.Send(target, &actor.PoisonPill{})
	res, err := sys.Root.RequestFuture(target, helloMessage(nil), requestTimeout).Result()
	if err != nil {
		t.Fatalf("the node no longer answers: %v", err)
	}
	if r := res.(*wire.HelloReply); !r.Accepted {
		t.Errorf("node answered %v", r)
	}
	if d := node.Dropped(); d < 4 {
		t.Errorf("the node dropped %d envelopes, want the unknown type, the other name, the Stop and the Terminated", d)
	}
}

// With mutual TLS a peer holding a certificate of the same CA, but for
// another host, can neither act for a coordinator (remove its run from a
// node) nor feed a run's actors made-up messages, on a node or on the
// coordinator: the guard drops them, and the run ends as in one process.
func TestRemoteForgedMessagesAreDropped(t *testing.T) {
	ca := newTestCA(t)
	good := ca.peer(t, net.IPv4(127, 0, 0, 1))
	node, err := StartNode(RemoteOptions{Listen: "127.0.0.1:0", TLS: good})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	// The intruder, on another loopback address with its own certificate.
	evil := actor.NewActorSystem(actor.WithLoggerFactory(loggerFactory(nil)))
	rem, _, err := startRemote(evil, RemoteOptions{Listen: "127.0.0.2:0", TLS: ca.peer(t, net.IPv4(127, 0, 0, 2))}, nil)
	if err != nil {
		t.Skipf("no second loopback address here: %v", err)
	}
	defer func() { shutdownRemote(rem); evil.Shutdown() }()

	cfg := xorConfig(neuromod.Dopamine1, 2)
	want, err := Run(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(Options{Nodes: []string{node.Addr()}, Remote: RemoteOptions{Listen: "127.0.0.1:0", TLS: good}})
	defer e.Close()
	attacked := false
	cfg.Observe = func(s sim.TrialStats) {
		if attacked || s.Trial < 20 {
			return
		}
		attacked = true
		coord := e.sys.Address()
		run := "seed-2." + e.nonce + ".1"
		// Remove the run from the node, as its coordinator.
		evil.Root.RequestWithCustomSender(actor.NewPID(node.Addr(), nodeActorName), &wire.Unplace{Run: run}, actor.NewPID(coord, "forged"))
		// A made-up input for the output neuron, and a made-up output
		// for the environment, a trial ahead.
		evil.Root.Send(actor.NewPID(node.Addr(), placedPrefix(coord, run+"/")+"neuron/o/000"), &wire.Activation{Trial: s.Trial + 2, Slot: 0, Vals: make([]float64, 8)})
		evil.Root.Send(actor.NewPID(coord, run+"/env"), &wire.Activation{Trial: s.Trial + 2, Vals: make([]float64, 8)})
		// The intruder's sends travel on connections of their own, which
		// it opens now: hold the run (this is the environment's goroutine)
		// until the guards have seen them, or the run could end first.
		deadline := time.After(10 * time.Second)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for node.Dropped() < 2 || e.Dropped() < 1 {
			select {
			case <-tick.C:
			case <-deadline:
				t.Errorf("the guards dropped %d (node) and %d (coordinator) envelopes in 10 s", node.Dropped(), e.Dropped())
				return
			}
		}
	}
	got, err := e.Run(context.Background(), cfg)
	if err != nil || got.Digest != want.Digest || got.Trials != want.Trials {
		t.Fatalf("attacked run: %v, digest %s after %d trials; in one process %s after %d", err, got.Digest, got.Trials, want.Digest, want.Trials)
	}
	if !attacked {
		t.Fatal("the run ended before the attack")
	}
	if d := node.Dropped(); d < 2 {
		t.Errorf("the node dropped %d envelopes, want the forged removal and the made-up input", d)
	}
	if d := e.Dropped(); d < 1 {
		t.Errorf("the coordinator dropped %d envelopes, want the made-up output", d)
	}
}

// TLS that does not verify every client against the CA is refused: the
// access rules know a peer by its verified certificate.
func TestRemoteTLSMustBeMutual(t *testing.T) {
	pki := testPKI(t)
	for _, auth := range []tls.ClientAuthType{tls.NoClientCert, tls.RequestClientCert, tls.RequireAnyClientCert, tls.VerifyClientCertIfGiven} {
		server := pki.Server.Clone()
		server.ClientAuth = auth
		if n, err := StartNode(RemoteOptions{Listen: "127.0.0.1:0", TLS: &TLSConfig{Server: server, Client: pki.Client}}); err == nil {
			n.Close()
			t.Errorf("client auth %v: node started", auth)
		}
	}
}

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
	node, err := StartNode(RemoteOptions{Listen: "127.0.0.1:0", Token: token, Refused: func(r string) { refused <- r }})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	cfg := xorConfig(neuromod.Dopamine1, 1)
	runOn := func(addr string, token []byte) error {
		e := NewEngine(Options{Nodes: []string{addr}, Remote: RemoteOptions{Listen: "127.0.0.1:0", Token: token}})
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
	want, err := Run(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(Options{Nodes: []string{node.Addr()}, Remote: RemoteOptions{Listen: "127.0.0.1:0", Token: token}})
	defer e.Close()
	got, err := e.Run(context.Background(), cfg)
	if err != nil || got.Digest != want.Digest {
		t.Errorf("with the token: %v, digest %s, want %s", err, got.Digest, want.Digest)
	}
}

// One coordinator may not place more than the node's peer limits, over all
// its runs, nor all of them more than the node's memory bound; the run fails
// with a line naming the limit, and the node is left with nothing of it.
func TestRemotePeerLimits(t *testing.T) {
	cfg := xorConfig(neuromod.Dopamine1, 1) // 4 hidden neurons of fan-in 2, one output of fan-in 4: 17 parameters
	run := func(opt RemoteOptions) (*Node, error) {
		opt.Listen = "127.0.0.1:0"
		node, err := StartNode(opt)
		if err != nil {
			t.Fatal(err)
		}
		e := NewEngine(Options{Nodes: []string{node.Addr()}, Remote: RemoteOptions{Listen: "127.0.0.1:0"}})
		defer e.Close()
		_, err = e.Run(context.Background(), cfg)
		return node, err
	}
	for _, c := range []struct {
		opt  RemoteOptions
		want string
	}{
		{RemoteOptions{PeerLimits: PeerLimits{Neurons: 4}}, "the limits are 4 and"},
		{RemoteOptions{PeerLimits: PeerLimits{Synapses: 16}}, "and 16 (dopasim node --max-neurons, --max-synapses)"},
		{RemoteOptions{MaxBytes: 4 << 10}, "more than its --max-memory of 4 KiB"},
	} {
		node, err := run(c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.opt, err, c.want)
		}
		if runs, err := node.Runs(); err != nil || runs != 0 {
			t.Errorf("%+v: the node still hosts %d runs (%v)", c.opt, runs, err)
		}
		node.Close()
	}
	// Exactly at the limits is allowed.
	node, err := run(RemoteOptions{PeerLimits: PeerLimits{Neurons: 5, Synapses: 17}})
	node.Close()
	if err != nil {
		t.Errorf("a run exactly at the limits: %v", err)
	}
	// The limits hold over a coordinator's runs: two at once need 10
	// neurons.
	node, err = StartNode(RemoteOptions{Listen: "127.0.0.1:0", PeerLimits: PeerLimits{Neurons: 9}})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	e := NewEngine(Options{Nodes: []string{node.Addr()}, Remote: RemoteOptions{Listen: "127.0.0.1:0"}})
	defer e.Close()
	slow := cfg
	slow.MaxTrials, slow.Mod.Eta = 1<<40, 0 // runs until cancelled
	placed := make(chan struct{})
	var once sync.Once
	slow.Observe = func(sim.TrialStats) { once.Do(func() { close(placed) }) }
	ctx, cancel := context.WithCancel(context.Background())
	firstDone := make(chan error, 1)
	go func() { _, err := e.Run(ctx, slow); firstDone <- err }()
	<-placed // a trial is judged: every neuron of the first run is placed
	if _, err := e.Run(context.Background(), xorConfig(neuromod.Dopamine1, 2)); err == nil || !strings.Contains(err.Error(), "9 neurons and") {
		t.Errorf("a second run past the limit: %v", err)
	}
	cancel()
	<-firstDone
}

// A program at a node's address that relays the handshake to a real node
// with the token gets nothing it can use: the coordinator refuses the
// relayed proof (it is bound to the other node's address and to the relay
// as the sender), and a coordinator's proof made for one node, or for
// another sender, does not place a neuron on another.
func TestRemoteTokenProofsAreBoundToTheirAddresses(t *testing.T) {
	token := []byte("a-shared-secret-of-32-bytes-here")
	node, err := StartNode(RemoteOptions{Listen: "127.0.0.1:0", Token: token})
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
	e := NewEngine(Options{Nodes: []string{relay.Address()}, Remote: RemoteOptions{Listen: "127.0.0.1:0", Token: token}})
	defer e.Close()
	if _, err := e.Run(context.Background(), xorConfig(neuromod.Dopamine1, 1)); err == nil || !strings.Contains(err.Error(), "could not prove it holds this coordinator's token") {
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
	node, err := StartNode(RemoteOptions{Listen: "127.0.0.1:0", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	addr := node.Addr()
	e := NewEngine(Options{Nodes: []string{addr}, Remote: RemoteOptions{Listen: "127.0.0.1:0", Token: token}})
	defer e.Close()
	if _, err := e.Run(context.Background(), xorConfig(neuromod.Dopamine1, 1)); err != nil {
		t.Fatal(err)
	}
	node.Close()
	if node, err = StartNode(RemoteOptions{Listen: addr, Token: token}); err != nil {
		t.Skipf("the node's port could not be taken again: %v", err)
	}
	defer node.Close()
	want, err := Run(context.Background(), xorConfig(neuromod.Dopamine1, 2), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Run(context.Background(), xorConfig(neuromod.Dopamine1, 2))
	if err != nil || got.Digest != want.Digest {
		t.Errorf("after the node restarted: %v, digest %s, want %s", err, got.Digest, want.Digest)
	}
}
