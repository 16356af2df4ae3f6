//go:build !race

// The pinned protoactor-go remote has data races of its own (it sets gRPC's
// global logger when it starts), so these tests run without -race: the
// README's test command runs them in a second pass.

package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
)

// remoteSystem returns an actor system with protoactor's remote on loopback,
// stopped when the test ends: a stand-in for a coordinator or a peer.
func remoteSystem(t *testing.T) *actor.ActorSystem {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(actors.LoggerFactory(nil)))
	rem, _, err := startRemote(sys, Options{Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdownRemote(rem); sys.Shutdown() })
	return sys
}

// startNode starts a node on loopback, closed when the test ends.
func startNode(t *testing.T) *Node {
	t.Helper()
	node, err := StartNode(Options{Listen: "127.0.0.1:0"})
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
		e := actors.NewEngine(actors.Options{Placer: NewCoordinator(nodes, placement, Options{Listen: "127.0.0.1:0"})})
		var wg sync.WaitGroup
		for seed := uint64(1); seed <= 6; seed++ {
			wg.Go(func() {
				cfg := runcheck.XORConfig(neuromod.Dopamine1, seed)
				want, err := actors.Run(context.Background(), cfg, actors.Options{})
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
		sys := actor.NewActorSystem(actor.WithLoggerFactory(actors.LoggerFactory(nil)))
		rem, _, err := startRemote(sys, Options{Listen: "127.0.0.1:0"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { shutdownRemote(rem); sys.Shutdown() }()
		if _, err := sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return fakeNode{numerics: numerics} }), nodeActorName); err != nil {
			t.Fatal(err)
		}
		e := actors.NewEngine(actors.Options{Placer: NewCoordinator([]string{sys.Address()}, RoundRobin, Options{Listen: "127.0.0.1:0"})})
		_, err = e.Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 1))
		if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), want) {
			t.Errorf("coordinator: err %v, want a refusal naming %q", err, want)
		}
		e.Close()

		// A coordinator of another version, as seen by a real node.
		refused := make(chan string, 1)
		node, err := StartNode(Options{Listen: "127.0.0.1:0", Refused: func(r string) { refused <- r }})
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
	node, err := StartNode(Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	addr := node.Addr()
	var buf bytes.Buffer
	e := actors.NewEngine(actors.Options{Placer: NewCoordinator([]string{addr}, RoundRobin, Options{Listen: "127.0.0.1:0"}), Log: &buf, LogLevel: msglog.All})
	defer e.Close()
	cfg := runcheck.XORConfig(neuromod.Fixed, 1)
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
	recs := runcheck.Records(t, buf.Bytes())
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
	e := actors.NewEngine(actors.Options{Placer: NewCoordinator(nodes, RoundRobin, Options{Listen: "127.0.0.1:0"})})
	defer e.Close()
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 1)
	cfg.MaxTrials = 5
	for i := range 100 {
		if _, err := e.Run(context.Background(), cfg); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
}

// A recurrent (Elman) network placed on nodes gives the same weights as in
// one process: the layer's neurons message each other every time step
// across the nodes.
func TestRemoteRecurrentMatchesLocal(t *testing.T) {
	nodes := startNodes(t, 2)
	for _, placement := range []Placement{RoundRobin, ByLayer} {
		e := actors.NewEngine(actors.Options{Placer: NewCoordinator(nodes, placement, Options{Listen: "127.0.0.1:0"})})
		cfg := runcheck.ChaosConfig(t, neuromod.Dopamine1, 2)
		if placement == ByLayer { // steps of three values (covariates): the placement carries the window's width
			cfg = runcheck.MultivariateChaosConfig(t, neuromod.Dopamine1, 2)
		}
		// On nodes the layer's neurons send to each other directly.
		want, err := actors.Run(context.Background(), cfg, actors.Options{DirectFanout: true})
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
	d, _ := protocol.ParseDelay("exp:20us")
	e := actors.NewEngine(actors.Options{Placer: NewCoordinator(nodes, RoundRobin, Options{Listen: "127.0.0.1:0"}), Mode: actors.Async, Lookahead: 2, Async: actors.AsyncOptions{DropActivation: 0.1, DropDopamine: 0.2, ActivationDelay: d, UpdateEvery: 1, UpdateEveryMax: 3, Mailbox: 8}})
	defer e.Close()
	solved := 0
	for seed := uint64(1); seed <= 4; seed++ {
		cfg := runcheck.XORConfig(neuromod.Dopamine1, seed)
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
	xor := runcheck.XORConfig(neuromod.Dopamine2, 3)
	xor.MaxTrials = 150
	elman := runcheck.ChaosConfig(t, neuromod.Dopamine1, 2)
	elman.MaxTrials = 12
	for name, cfg := range map[string]sim.Config{"xor": xor, "elman": elman} {
		for _, level := range []msglog.Level{msglog.Trials, msglog.Messages, msglog.All} {
			_, want := logRun(t, cfg, level)
			for _, placement := range []Placement{RoundRobin, ByLayer} {
				var buf bytes.Buffer
				e := actors.NewEngine(actors.Options{Placer: NewCoordinator(nodes, placement, Options{Listen: "127.0.0.1:0"}), Log: &buf, LogLevel: level})
				if _, err := e.Run(context.Background(), cfg); err != nil {
					t.Fatalf("%s %v %v: %v", name, level, placement, err)
				}
				if err := e.Close(); err != nil {
					t.Fatal(err)
				}
				if got := buf.Bytes(); !bytes.Equal(got, want) {
					t.Errorf("%s at level %v, %v: the log on nodes differs from the local one (%d vs %d bytes)\n%s", name, level, placement, len(got), len(want), firstDiff(got, want))
				}
				if level == msglog.All && runcheck.Recompute(t, buf.Bytes()) == 0 {
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
	checkAsyncLog(t, NewCoordinator(startNodes(t, 2), RoundRobin, Options{Listen: "127.0.0.1:0"}))
}

// Blocking mailboxes need the goroutine dispatcher on the node too: with
// the inline one the connection's reader would wait for a full mailbox,
// and every run on the connection with it. The node refuses the placement.
func TestRemoteBlockingMailboxNeedsGoroutineNodes(t *testing.T) {
	nodes := startNodes(t, 1) // inline dispatcher
	e := actors.NewEngine(actors.Options{Placer: NewCoordinator(nodes, RoundRobin, Options{Listen: "127.0.0.1:0"}), Mode: actors.Async, Dispatcher: actors.Goroutine, Async: actors.AsyncOptions{Mailbox: 2, MailboxFull: actors.OverflowBlock}})
	defer e.Close()
	if _, err := e.Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 1)); err == nil || !strings.Contains(err.Error(), "--dispatcher goroutine") {
		t.Errorf("err %v, want a refusal asking for --dispatcher goroutine", err)
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
	node, err := StartNode(Options{Listen: "[::1]:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	if !strings.HasPrefix(node.Addr(), "[::1]:") {
		t.Fatalf("node address %q, want [::1]:port", node.Addr())
	}
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 3)
	want, err := actors.Run(context.Background(), cfg, actors.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, listen := range []string{"[::1]:0", "127.0.0.1:0"} {
		e := actors.NewEngine(actors.Options{Placer: NewCoordinator([]string{node.Addr()}, RoundRobin, Options{Listen: listen})})
		got, err := e.Run(context.Background(), cfg)
		e.Close()
		if err != nil || got.Digest != want.Digest {
			t.Errorf("coordinator on %s: %v, digest %s, in one process %s", listen, err, got.Digest, want.Digest)
		}
	}
}

// Why a node did not answer is said in dopasim's words, not protoactor's.
func TestFutureError(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{actor.ErrDeadLetter, "nothing accepted the connection"},
		{fmt.Errorf("request: %w", actor.ErrTimeout), "no answer in time"},
		{errors.New("other"), "other"},
	} {
		if got := futureError(c.err); got != c.want {
			t.Errorf("%v: %q, want %q", c.err, got, c.want)
		}
	}
}

// A run whose node is not there fails with one line that names the node
// and does not leak protoactor's wording.
func TestRemoteUnreachableNode(t *testing.T) {
	_, err := actors.Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 1), actors.Options{Placer: NewCoordinator([]string{"127.0.0.1:1"}, RoundRobin, Options{})})
	if err == nil || !strings.Contains(err.Error(), "node 127.0.0.1:1") || strings.Contains(err.Error(), "future:") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err %v", err)
	}
}
