//go:build !race

// The pinned protoactor-go remote has data races of its own (it sets gRPC's
// global logger when it starts), so these tests run without -race: the
// README's test command runs them in a second pass.

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
	"fmt"
	"math/big"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
)

// remoteSystem returns an actor system with protoactor's remote on loopback,
// stopped when the test ends: a stand-in for a coordinator or a peer.
func remoteSystem(t *testing.T) *actor.ActorSystem {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(loggerFactory(nil)))
	rem, _, err := startRemote(sys, RemoteOptions{Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdownRemote(rem); sys.Shutdown() })
	return sys
}

// startNode starts a node on loopback, closed when the test ends.
func startNode(t *testing.T) *Node {
	t.Helper()
	node, err := StartNode(RemoteOptions{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Close)
	return node
}

// startNodes starts n nodes and returns their addresses.
func startNodes(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		addrs = append(addrs, startNode(t).Addr())
	}
	return addrs
}

// A sync run whose neurons live on other nodes gives the same weights,
// bit for bit, as the same run in one process, for either placement, with
// runs sharing the nodes at the same time.
func TestRemoteRunMatchesLocal(t *testing.T) {
	nodes := startNodes(t, 2)
	for _, placement := range []Placement{RoundRobin, ByLayer} {
		e := NewEngine(Options{Nodes: nodes, Placement: placement, Remote: RemoteOptions{Listen: "127.0.0.1:0"}})
		var wg sync.WaitGroup
		for seed := uint64(1); seed <= 6; seed++ {
			wg.Go(func() {
				cfg := xorConfig(neuromod.Dopamine1, seed)
				want, err := Run(context.Background(), cfg, Options{})
				if err != nil {
					t.Error(err)
					return
				}
				got, err := e.Run(context.Background(), cfg)
				if err != nil {
					t.Errorf("%v seed %d: %v", placement, seed, err)
					return
				}
				if got.Digest != want.Digest || got.Trials != want.Trials || got.End != want.End || got.Messages != want.Messages {
					t.Errorf("%v seed %d: remote %s after %d trials (%v, %d messages), local %s after %d (%v, %d)", placement, seed,
						got.Digest, got.Trials, got.End, got.Messages, want.Digest, want.Trials, want.End, want.Messages)
				}
			})
		}
		wg.Wait()
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeNode answers the handshake with another wire version, or with
// another neuron arithmetic.
type fakeNode struct{ numerics bool }

func (f fakeNode) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*wire.Hello); ok {
		r := &wire.HelloReply{WireVersion: "0123456789abcdef", Numerics: Numerics(), Program: "dopasim-old", Accepted: true}
		if f.numerics {
			r.WireVersion, r.Numerics = wire.Version(), "0123456789abcdef"
		}
		ctx.Respond(r)
	}
}

// Both sides refuse a peer built from other wire messages, or whose neurons
// compute other numbers, before any neuron is placed.
func TestRemoteHandshakeRefusesOtherVersions(t *testing.T) {
	for _, numerics := range []bool{false, true} {
		want := "wire version 0123456789abcdef"
		if numerics {
			want = "neuron arithmetic 0123456789abcdef"
		}
		// A node of another version, as seen by the coordinator.
		sys := actor.NewActorSystem(actor.WithLoggerFactory(loggerFactory(nil)))
		rem, _, err := startRemote(sys, RemoteOptions{Listen: "127.0.0.1:0"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { shutdownRemote(rem); sys.Shutdown() }()
		if _, err := sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return fakeNode{numerics: numerics} }), nodeActorName); err != nil {
			t.Fatal(err)
		}
		e := NewEngine(Options{Nodes: []string{sys.Address()}, Remote: RemoteOptions{Listen: "127.0.0.1:0"}})
		_, err = e.Run(context.Background(), xorConfig(neuromod.Dopamine1, 1))
		if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), want) {
			t.Errorf("coordinator: err %v, want a refusal naming %q", err, want)
		}
		e.Close()

		// A coordinator of another version, as seen by a real node.
		refused := make(chan string, 1)
		node, err := StartNode(RemoteOptions{Listen: "127.0.0.1:0", Refused: func(r string) { refused <- r }})
		if err != nil {
			t.Fatal(err)
		}
		defer node.Close()
		hello := &wire.Hello{WireVersion: "0123456789abcdef", Numerics: Numerics(), Program: "dopasim-new"}
		if numerics {
			hello.WireVersion, hello.Numerics = wire.Version(), "0123456789abcdef"
		}
		res, err := sys.Root.RequestFuture(actor.NewPID(node.Addr(), nodeActorName), hello, requestTimeout).Result()
		if err != nil {
			t.Fatal(err)
		}
		if r := res.(*wire.HelloReply); r.Accepted || !strings.Contains(r.Reason, want) {
			t.Errorf("node answered %v, want a refusal naming %q", r, want)
		}
		if r := <-refused; !strings.Contains(r, want) {
			t.Errorf("node reported %q", r)
		}
	}
}

// A node that dies mid-run ends the run with an error naming it, soon; the
// message log so far is complete lines, every trial before the failure
// whole, and ends with an end record that says so.
func TestRemoteNodeDeathEndsTheRun(t *testing.T) {
	node, err := StartNode(RemoteOptions{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	addr := node.Addr()
	var buf bytes.Buffer
	e := NewEngine(Options{Nodes: []string{addr}, Remote: RemoteOptions{Listen: "127.0.0.1:0"}, Log: &buf, LogLevel: msglog.All})
	defer e.Close()
	cfg := xorConfig(neuromod.Fixed, 1)
	cfg.Mod.Eta = 0
	cfg.MaxTrials = 1 << 40
	n := 0
	cfg.Observe = func(sim.TrialStats) {
		if n++; n == 100 {
			go node.Close()
		}
	}
	_, err = e.Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err %v, want one naming node %s", err, addr)
	}
	t.Log(err)
	recs := records(t, buf.Bytes())
	if last := recs[len(recs)-1]; last["kind"] != msglog.KindEnd || last["how"] != msglog.HowError {
		t.Errorf("last record %v, want an end record of a failed run", last)
	}
	// Trials 0 … 99 were judged before the node went, and each neuron
	// shipped its records of trials up to 98 before it computed trial 99,
	// so they reached the coordinator before trial 99's output did; the
	// run ends behind them. Trials 0 … 98 are whole: from each of the 5
	// neurons, its activation and its weight records (4·3 + 5 parameters).
	const whole = 99
	perTrial := map[float64][2]int{}
	for _, r := range recs {
		if tr, ok := r["trial"].(float64); ok && tr < whole {
			c := perTrial[tr]
			switch r["kind"] {
			case msglog.KindActivation:
				c[0]++
			case msglog.KindWeight:
				c[1]++
			}
			perTrial[tr] = c
		}
	}
	for tr := range whole {
		if c := perTrial[float64(tr)]; c != [2]int{4 + 1, 17} {
			t.Fatalf("trial %v: %d activation and %d weight records, want 5 and 17", tr, c[0], c[1])
		}
	}
}

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

// When a run actor is gone without removing its neurons (its coordinator
// died, which looks the same from the node), the neurons stop and the node
// forgets the run.
func TestRemoteRunActorGoneFreesTheNode(t *testing.T) {
	node := startNode(t)
	sys := remoteSystem(t)
	parent, err := sys.Root.SpawnNamed(actor.PropsFromFunc(func(actor.Context) {}), "seed-1")
	if err != nil {
		t.Fatal(err)
	}
	res, err := sys.Root.RequestFuture(actor.NewPID(node.Addr(), nodeActorName), &wire.Place{Run: "seed-1", Name: "h0",
		FanIn: 2, Sigma: 1e-3, Params: []float64{1, 2, 3}, Patterns: 4, Width: []uint32{2}, Shared: true, Parent: parent, Down: []*actor.PID{parent}}, requestTimeout).Result()
	if err != nil || res.(*wire.Placed).Error != "" {
		t.Fatalf("place: %v %v", res, err)
	}
	neuron := res.(*wire.Placed).Pid
	sys.Root.Send(neuron, &wire.Wire{}) // wired: it watches its parent now
	if runs, err := node.Runs(); err != nil || runs != 1 {
		t.Fatalf("node hosts %d runs (%v), want 1", runs, err)
	}
	sys.Root.StopFuture(parent).Wait()
	for deadline := time.Now().Add(30 * time.Second); ; runtime.Gosched() {
		runs, err := node.Runs()
		if err != nil {
			t.Fatal(err)
		}
		if runs == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node still hosts %d run(s) 30 s after the run actor stopped", runs)
		}
	}
}

// The same seed, run again and again on one engine with nodes, never meets
// the leftovers of its earlier runs.
func TestRemoteSameSeedRepeats(t *testing.T) {
	nodes := startNodes(t, 1)
	e := NewEngine(Options{Nodes: nodes, Remote: RemoteOptions{Listen: "127.0.0.1:0"}})
	defer e.Close()
	cfg := xorConfig(neuromod.Dopamine1, 1)
	cfg.MaxTrials = 5
	for i := range 100 {
		if _, err := e.Run(context.Background(), cfg); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
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

// A recurrent (Elman) network placed on nodes gives the same weights as in
// one process: the layer's neurons message each other every time step
// across the nodes.
func TestRemoteRecurrentMatchesLocal(t *testing.T) {
	nodes := startNodes(t, 2)
	for _, placement := range []Placement{RoundRobin, ByLayer} {
		e := NewEngine(Options{Nodes: nodes, Placement: placement, Remote: RemoteOptions{Listen: "127.0.0.1:0"}})
		cfg := chaosConfig(t, neuromod.Dopamine1, 2)
		// On nodes the layer's neurons send to each other directly.
		want, err := Run(context.Background(), cfg, Options{DirectFanout: true})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Run(context.Background(), cfg)
		if err != nil {
			t.Fatalf("%v: %v", placement, err)
		}
		if got.Digest != want.Digest || got.Trials != want.Trials || got.Messages != want.Messages || got.Forward != want.Forward {
			t.Errorf("%v: remote %s after %d trials (%d messages, %d forward), local %s after %d (%d, %d)", placement,
				got.Digest, got.Trials, got.Messages, got.Forward, want.Digest, want.Trials, want.Messages, want.Forward)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// The asynchronous mode on nodes: the neurons there get the run's knobs
// (drops, wall-clock delays, update rates, mailbox bounds) and report their
// counts, so conservation (asyncRun's checks) holds across processes.
func TestRemoteAsync(t *testing.T) {
	nodes := startNodes(t, 2)
	d, _ := ParseDelay("exp:20us")
	e := NewEngine(Options{Mode: Async, Lookahead: 2, Nodes: nodes, Remote: RemoteOptions{Listen: "127.0.0.1:0"},
		Async: AsyncOptions{DropActivation: 0.1, DropDopamine: 0.2, ActivationDelay: d, UpdateEvery: 1, UpdateEveryMax: 3, Mailbox: 8}})
	defer e.Close()
	solved := 0
	for seed := uint64(1); seed <= 4; seed++ {
		cfg := xorConfig(neuromod.Dopamine1, seed)
		cfg.MaxTrials = 20000
		res := asyncRun(t, e, cfg)
		a := res.Async
		if a.Messages["activation"].Dropped == 0 || a.Dropped == 0 || a.Skipped == 0 || a.ActivationHoldNs == 0 || a.LostTrials == 0 {
			t.Errorf("seed %d: a knob left no trace: %+v", seed, *a)
		}
		if res.End == sim.Solved {
			solved++
		}
	}
	if solved < 3 {
		t.Errorf("%d of 4 seeds solved", solved)
	}
}

// A run on nodes writes the same message log, byte for byte, as in one
// process, at every level, for the feed-forward and the recurrent network
// under both placements: the placed neurons ship their records to the
// coordinator, which sorts them with its own. Level all then also passes
// the recomputation of every weight change.
func TestRemoteLogMatchesLocal(t *testing.T) {
	nodes := startNodes(t, 2)
	xor := xorConfig(neuromod.Dopamine2, 3)
	xor.MaxTrials = 150
	elman := chaosConfig(t, neuromod.Dopamine1, 2)
	elman.MaxTrials = 12
	for name, cfg := range map[string]sim.Config{"xor": xor, "elman": elman} {
		for _, level := range []msglog.Level{msglog.Trials, msglog.Messages, msglog.All} {
			_, want := logRun(t, cfg, Options{}, level)
			for _, placement := range []Placement{RoundRobin, ByLayer} {
				var buf bytes.Buffer
				e := NewEngine(Options{Nodes: nodes, Placement: placement, Remote: RemoteOptions{Listen: "127.0.0.1:0"}, Log: &buf, LogLevel: level})
				if _, err := e.Run(context.Background(), cfg); err != nil {
					t.Fatalf("%s %v %v: %v", name, level, placement, err)
				}
				if err := e.Close(); err != nil {
					t.Fatal(err)
				}
				if got := buf.Bytes(); !bytes.Equal(got, want) {
					t.Errorf("%s at level %v, %v: the log on nodes differs from the local one (%d vs %d bytes)\n%s", name, level, placement, len(got), len(want), firstDiff(got, want))
				}
				if level == msglog.All && recompute(t, buf.Bytes()) == 0 {
					t.Errorf("%s %v: no weight record", name, placement)
				}
			}
		}
	}
}

// firstDiff shows the first line where two logs differ.
func firstDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range min(len(g), len(w)) {
		if !bytes.Equal(g[i], w[i]) {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("one is a prefix of the other (%d vs %d lines)", len(g), len(w))
}

// An async run on nodes logs what it would in one process: every activation
// the placed neurons sent (shipped from the nodes, late for their trials),
// every signal delivered and its weight changes.
func TestRemoteAsyncLog(t *testing.T) {
	checkAsyncLog(t, Options{Nodes: startNodes(t, 2), Remote: RemoteOptions{Listen: "127.0.0.1:0"}})
}

// Blocking mailboxes need the goroutine dispatcher on the node too: with
// the inline one the connection's reader would wait for a full mailbox,
// and every run on the connection with it. The node refuses the placement.
func TestRemoteBlockingMailboxNeedsGoroutineNodes(t *testing.T) {
	nodes := startNodes(t, 1) // inline dispatcher
	e := NewEngine(Options{Mode: Async, Dispatcher: Goroutine, Async: AsyncOptions{Mailbox: 2, MailboxFull: OverflowBlock},
		Nodes: nodes, Remote: RemoteOptions{Listen: "127.0.0.1:0"}})
	defer e.Close()
	if _, err := e.Run(context.Background(), xorConfig(neuromod.Dopamine1, 1)); err == nil || !strings.Contains(err.Error(), "--dispatcher goroutine") {
		t.Errorf("err %v, want a refusal asking for --dispatcher goroutine", err)
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

// A node and a coordinator on IPv6 loopback work as on IPv4 (protoactor
// joins host and port with a bare colon, which an IPv6 host must not
// meet unbracketed), also with a coordinator on one family and its node
// on the other.
func TestRemoteIPv6Loopback(t *testing.T) {
	if l, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	} else {
		l.Close()
	}
	node, err := StartNode(RemoteOptions{Listen: "[::1]:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	if !strings.HasPrefix(node.Addr(), "[::1]:") {
		t.Fatalf("node address %q, want [::1]:port", node.Addr())
	}
	cfg := xorConfig(neuromod.Dopamine1, 3)
	want, err := Run(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, listen := range []string{"[::1]:0", "127.0.0.1:0"} {
		e := NewEngine(Options{Nodes: []string{node.Addr()}, Remote: RemoteOptions{Listen: listen}})
		got, err := e.Run(context.Background(), cfg)
		e.Close()
		if err != nil || got.Digest != want.Digest {
			t.Errorf("coordinator on %s: %v, digest %s, in one process %s", listen, err, got.Digest, want.Digest)
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
