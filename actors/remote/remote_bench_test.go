//go:build !race

package remote

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/neuromod"
)

// counter counts the activations it receives and answers a Finish with the
// count.
type counter struct{ n int }

func (c *counter) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *wire.Activation:
		c.n++
	case *wire.Finish:
		ctx.Respond(&wire.Finish{Trial: uint64(c.n)})
	}
}

// twoSystems starts two actor systems with protoactor remote on loopback;
// stop shuts both down.
func twoSystems(b *testing.B) (a, c *actor.ActorSystem, stop func()) {
	b.Helper()
	quiet := actor.WithLoggerFactory(actors.LoggerFactory(nil))
	a, c = actor.NewActorSystem(quiet), actor.NewActorSystem(quiet)
	ra, _, err := startRemote(a, Options{Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	rc, _, err := startRemote(c, Options{Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return a, c, func() { shutdownRemote(ra); shutdownRemote(rc); a.Shutdown(); c.Shutdown() }
}

// rawRemoteRate sends n activations (8 floats, an XOR output's size) from one
// actor system to an actor of another over protoactor remote on loopback,
// and returns messages per second, counted when the last one arrived.
func rawRemoteRate(b *testing.B, n int) float64 {
	b.Helper()
	a, c, stop := twoSystems(b)
	defer stop()
	pid, err := c.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &counter{} }), "counter")
	if err != nil {
		b.Fatal(err)
	}
	remotePID := actor.NewPID(c.Address(), pid.Id)
	// Connect first: the first send sets up the stream.
	if _, err := a.Root.RequestFuture(remotePID, &wire.Finish{}, 10*time.Second).Result(); err != nil {
		b.Fatal(err)
	}
	msg := &wire.Activation{Trial: 1, Slot: 2, Vals: make([]float64, 8)}
	start := time.Now()
	for range n {
		a.Root.Send(remotePID, msg)
	}
	res, err := a.Root.RequestFuture(remotePID, &wire.Finish{}, time.Minute).Result()
	if err != nil {
		b.Fatal(err)
	}
	if got := res.(*wire.Finish).Trial; got != uint64(n) {
		b.Fatalf("%d of %d messages arrived", got, n)
	}
	return float64(n) / time.Since(start).Seconds()
}

// echo sends every activation back to its sender.
type echo struct{}

func (echo) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*wire.Activation); ok {
		ctx.Send(ctx.Sender(), m)
	}
}

// pinger sends an activation to an echo, and the next when it comes back,
// n times in all; it closes done at the last.
type pinger struct {
	echo *actor.PID
	n    int
	done chan struct{}
}

func (p *pinger) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*wire.Activation); !ok {
		return
	}
	if p.n--; p.n <= 0 {
		close(p.done)
		return
	}
	ctx.Request(p.echo, &wire.Activation{Trial: 1, Slot: 2, Vals: make([]float64, 8)})
}

// rawRoundTrip returns the mean time for an activation to go from one actor
// system to another over protoactor remote on loopback and back, with one
// message in flight at a time: the latency a chain of dependent hops pays.
func rawRoundTrip(b *testing.B, n int) time.Duration {
	b.Helper()
	a, c, stop := twoSystems(b)
	defer stop()
	e := c.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return echo{} }))
	p := &pinger{echo: actor.NewPID(c.Address(), e.Id), n: n + 1, done: make(chan struct{})}
	pp := a.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return p }))
	a.Root.RequestWithCustomSender(p.echo, &wire.Activation{}, pp) // connects
	start := time.Now()
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		b.Fatal("round trips stalled")
	}
	return time.Since(start) / time.Duration(n+1)
}

// BenchmarkRemoteMessageRatio prints, in one run, the messages per second
// that cross between processes in a sync XOR run with its neurons on a node
// (both placements, two nodes) against raw protoactor remote throughput
// between two actor systems on loopback; the goal is a ratio ≥ 0.5
// for sync. For comparison it also runs 64 sync runs at once (seeds 1 to
// 64, each b.N/64 trials: what a seed sweep does) and an async run
// presenting 8 trials ahead, and measures the raw round trip between two
// systems, which bounds a sync run: each trial is a chain of three
// dependent hops (signal out, hidden to output, output back).
//
//	go test ./actors -run XXX -bench RemoteMessageRatio -benchtime 2000x
func BenchmarkRemoteMessageRatio(b *testing.B) {
	nodes := make([]string, 2)
	var ns []*Node
	for i := range nodes {
		n, err := StartNode(Options{Listen: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		defer n.Close()
		nodes[i], ns = n.Addr(), append(ns, n)
	}
	for _, c := range []struct {
		name      string
		placement Placement
		mode      actors.Mode
		lookahead int
		runs      int
	}{{"round-robin", RoundRobin, actors.Sync, 0, 1}, {"layer", ByLayer, actors.Sync, 0, 1},
		{"64-runs-round-robin", RoundRobin, actors.Sync, 0, 64}, {"async-lookahead-8", RoundRobin, actors.Async, 8, 1}} {
		b.Run(c.name, func(b *testing.B) {
			coord := NewCoordinator(nodes, c.placement, Options{Listen: "127.0.0.1:0"})
			e := actors.NewEngine(actors.Options{Placer: coord, Mode: c.mode, Lookahead: c.lookahead})
			defer e.Close()
			cfg := runcheck.XORConfig(neuromod.Fixed, 1)
			cfg.Mod.Eta = 0 // never solves: exactly MaxTrials trials
			cfg.MaxTrials = uint64(max(1, b.N/c.runs))
			if _, err := e.Run(context.Background(), cfg); err != nil { // connect and warm up
				b.Fatal(err)
			}
			before := coord.CrossNode() + ns[0].CrossNode() + ns[1].CrossNode()
			b.ResetTimer()
			start := time.Now()
			var trials atomic.Uint64
			var wg sync.WaitGroup
			for i := range c.runs {
				wg.Go(func() {
					cfg := cfg
					cfg.Seed = uint64(i + 1)
					res, err := e.Run(context.Background(), cfg)
					if err != nil {
						b.Error(err)
					}
					trials.Add(res.Trials)
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			crossed := coord.CrossNode() + ns[0].CrossNode() + ns[1].CrossNode() - before
			run := float64(crossed) / elapsed.Seconds()
			raw := rawRemoteRate(b, 200_000)
			b.ReportMetric(run, "cross-msgs/s")
			b.ReportMetric(raw, "raw-msgs/s")
			b.ReportMetric(run/raw, "ratio")
			b.ReportMetric(float64(crossed)/float64(trials.Load()), "cross-msgs/trial")
			b.ReportMetric(float64(trials.Load())/elapsed.Seconds(), "trials/s")
			b.ReportMetric(float64(rawRoundTrip(b, 2000).Microseconds()), "raw-round-trip-µs")
		})
	}
}
