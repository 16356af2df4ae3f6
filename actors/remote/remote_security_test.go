//go:build !race

// Who may place and send on nodes: mutual TLS, forged messages and
// the limits of what a peer may place. Built without -race, as the other
// remote tests (remote_test.go says why).

package remote

import (
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
	protoremote "github.com/asynkron/protoactor-go/remote"
	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/internal/runcheck"
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
		node, err := StartNode(Options{Listen: "127.0.0.1:0", TLS: pki})
		if err != nil {
			t.Fatal(err)
		}
		defer node.Close()
		addrs = append(addrs, node.Addr())
	}
	node := addrs[0]
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 2)
	want, err := actors.Run(context.Background(), cfg, actors.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := actors.NewEngine(actors.Options{Placer: NewCoordinator(addrs, RoundRobin, Options{Listen: "127.0.0.1:0", TLS: pki})})
	got, err := e.Run(context.Background(), cfg)
	if err != nil || got.Digest != want.Digest {
		t.Errorf("with the right certificate: %v, digest %s, want %s", err, got.Digest, want.Digest)
	}
	e.Close()
	for name, tlsCfg := range map[string]*TLSConfig{"another CA": testPKI(t), "no TLS": nil} {
		e := actors.NewEngine(actors.Options{Placer: NewCoordinator([]string{node}, RoundRobin, Options{Listen: "127.0.0.1:0", TLS: tlsCfg})})
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
	if _, err := protoremote.NewRemotingClient(conn).ListProcesses(context.Background(), &protoremote.ListProcessesRequest{}); status.Code(err) != codes.Unimplemented {
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

// runNamer is a Coordinator that keeps the name of the run it placed last,
// for an intruder who learnt it.
type runNamer struct {
	*Coordinator
	mu   sync.Mutex
	last string
}

func (p *runNamer) Place(req actors.PlaceRequest) (actors.Placed, error) {
	p.mu.Lock()
	p.last = req.Run
	p.mu.Unlock()
	return p.Coordinator.Place(req)
}

func (p *runNamer) run() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// With mutual TLS a peer holding a certificate of the same CA, but for
// another host, can neither act for a coordinator (remove its run from a
// node) nor feed a run's actors made-up messages, on a node or on the
// coordinator: the guard drops them, and the run ends as in one process.
func TestRemoteForgedMessagesAreDropped(t *testing.T) {
	ca := newTestCA(t)
	good := ca.peer(t, net.IPv4(127, 0, 0, 1))
	node, err := StartNode(Options{Listen: "127.0.0.1:0", TLS: good})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	// The intruder, on another loopback address with its own certificate.
	evil := actor.NewActorSystem(actor.WithLoggerFactory(actors.LoggerFactory(nil)))
	rem, _, err := startRemote(evil, Options{Listen: "127.0.0.2:0", TLS: ca.peer(t, net.IPv4(127, 0, 0, 2))}, nil)
	if err != nil {
		t.Skipf("no second loopback address here: %v", err)
	}
	defer func() { shutdownRemote(rem); evil.Shutdown() }()

	cfg := runcheck.XORConfig(neuromod.Dopamine1, 2)
	want, err := actors.Run(context.Background(), cfg, actors.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &runNamer{Coordinator: NewCoordinator([]string{node.Addr()}, RoundRobin, Options{Listen: "127.0.0.1:0", TLS: good})}
	e := actors.NewEngine(actors.Options{Placer: c})
	defer e.Close()
	attacked := false
	cfg.Observe = func(s sim.TrialStats) {
		if attacked || s.Trial < 20 {
			return
		}
		attacked = true
		coord, run := c.sys.Address(), c.run()
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
		for node.Dropped() < 2 || c.Dropped() < 1 {
			select {
			case <-tick.C:
			case <-deadline:
				t.Errorf("the guards dropped %d (node) and %d (coordinator) envelopes in 10 s", node.Dropped(), c.Dropped())
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
	if d := c.Dropped(); d < 1 {
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
		if n, err := StartNode(Options{Listen: "127.0.0.1:0", TLS: &TLSConfig{Server: server, Client: pki.Client}}); err == nil {
			n.Close()
			t.Errorf("client auth %v: node started", auth)
		}
	}
}

// One coordinator may not place more than the node's peer limits, over all
// its runs, nor all of them more than the node's memory bound; the run fails
// with a line naming the limit, and the node is left with nothing of it.
func TestRemotePeerLimits(t *testing.T) {
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 1) // 4 hidden neurons of fan-in 2, one output of fan-in 4: 17 parameters
	run := func(opt Options) (*Node, error) {
		opt.Listen = "127.0.0.1:0"
		node, err := StartNode(opt)
		if err != nil {
			t.Fatal(err)
		}
		e := actors.NewEngine(actors.Options{Placer: NewCoordinator([]string{node.Addr()}, RoundRobin, Options{Listen: "127.0.0.1:0"})})
		defer e.Close()
		_, err = e.Run(context.Background(), cfg)
		return node, err
	}
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{PeerLimits: PeerLimits{Neurons: 4}}, "the limits are 4 and"},
		{Options{PeerLimits: PeerLimits{Synapses: 16}}, "and 16 (dopasim node --max-neurons, --max-synapses)"},
		{Options{MaxBytes: 4 << 10}, "more than its --max-memory of 4 KiB"},
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
	node, err := run(Options{PeerLimits: PeerLimits{Neurons: 5, Synapses: 17}})
	node.Close()
	if err != nil {
		t.Errorf("a run exactly at the limits: %v", err)
	}
	// The limits hold over a coordinator's runs: two at once need 10
	// neurons.
	node, err = StartNode(Options{Listen: "127.0.0.1:0", PeerLimits: PeerLimits{Neurons: 9}})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	e := actors.NewEngine(actors.Options{Placer: NewCoordinator([]string{node.Addr()}, RoundRobin, Options{Listen: "127.0.0.1:0"})})
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
	if _, err := e.Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 2)); err == nil || !strings.Contains(err.Error(), "9 neurons and") {
		t.Errorf("a second run past the limit: %v", err)
	}
	cancel()
	<-firstDone
}
