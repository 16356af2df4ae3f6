package actors

import (
	"context"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
)

// wallOwner is an actor that owns a wallLine and reports what it sends.
type wallOwner struct {
	line *wallLine
	out  chan any
}

func (o *wallOwner) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*release); ok {
		o.line.take(func(_ *actor.PID, msg any) { o.out <- msg })
	}
}

// Messages leave in the order they fall due, not the order they were held,
// under either dispatcher.
func TestWallLineReleasesInDueOrder(t *testing.T) {
	for _, disp := range allDispatchers {
		sys := actor.NewActorSystem()
		o := &wallOwner{line: newWallLine(sys.Root), out: make(chan any, 8)}
		pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return o }, disp.props(testPool(t))...))
		ms := time.Millisecond
		for _, h := range []struct {
			d   time.Duration
			msg string
		}{{60 * ms, "d"}, {20 * ms, "b"}, {0, "a"}, {40 * ms, "c"}} {
			o.line.hold(pid, h.d, nil, h.msg)
		}
		var got string
		for range 4 {
			select {
			case m := <-o.out:
				got += m.(string)
			case <-time.After(10 * time.Second):
				t.Fatalf("%v: only %q released after 10 s", disp, got)
			}
		}
		o.line.quiesce()
		if got != "abcd" || o.line.added != 4 || o.line.released != 4 || o.line.missed != 0 {
			t.Errorf("%v: released %q; counts %d held, %d released, %d missed", disp, got, o.line.added, o.line.released, o.line.missed)
		}
		sys.Root.Stop(pid)
		sys.Shutdown()
	}
}

// Closing misses what is still held, and nothing is released after it.
func TestWallLineCloseMisses(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	o := &wallOwner{line: newWallLine(sys.Root), out: make(chan any, 8)}
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return o }))
	defer sys.Root.Stop(pid)
	o.line.hold(pid, time.Hour, nil, "late")
	o.line.hold(pid, 2*time.Hour, nil, "later")
	o.line.quiesce()
	o.line.close()                    // twice is harmless
	o.line.hold(pid, 0, nil, "after") // held after close: missed at once
	o.line.fire()
	if o.line.added != 3 || o.line.released != 0 || o.line.missed != 3 {
		t.Errorf("counts %d held, %d released, %d missed; want 3, 0, 3", o.line.added, o.line.released, o.line.missed)
	}
	select {
	case m := <-o.out:
		t.Errorf("%v released after close", m)
	default:
	}
}

// Activations delayed in wall time overtake one another; the receivers
// still take trials in order, nothing is lost, and XOR is still learned by
// most seeds. How many is statistical: the delays are wall time, so how
// stale the signals get depends on the machine's load (beside the other
// packages' tests under -race, a seed may wander off for its 5 000 trials;
// one such run solved 2 of 4 seeds with the pool dispatcher, 9 of 12 in
// all), hence a bound over all 12 runs rather than per dispatcher.
func TestAsyncActivationDelayReorders(t *testing.T) {
	d, err := protocol.ParseDelay("exp:20us")
	if err != nil || !d.Wall {
		t.Fatalf("ParseDelay: %+v, %v", d, err)
	}
	solved, runs := 0, 0
	for _, disp := range allDispatchers {
		e := NewEngine(Options{Mode: Async, Dispatcher: disp, Lookahead: 4, Async: AsyncOptions{ActivationDelay: d}})
		var overtaken uint64
		for seed := uint64(1); seed <= 4; seed++ {
			cfg := runcheck.XORConfig(neuromod.Dopamine1, seed)
			cfg.MaxTrials = 5000
			res := asyncRun(t, e, cfg)
			runs++
			overtaken += res.Async.Overtaken
			if res.End == sim.Solved {
				solved++
			}
			if m := res.Async.Messages["activation"]; m.Dropped != 0 || res.Async.Missed != 0 {
				t.Errorf("%v seed %d: activations %+v, %d signals missed", disp, seed, m, res.Async.Missed)
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: %d messages overtaken, %d seeds solved so far of %d", disp, overtaken, solved, runs)
		if overtaken == 0 {
			t.Errorf("%v: no message overtaken by another with exponential delays", disp)
		}
	}
	if solved < runs/2 {
		t.Errorf("%d of %d runs solved XOR", solved, runs)
	}
}

// A wall-clock dopamine delay longer than the run: every signal is missed,
// the weights do not move, and the run ends at its cap (not hung, and no
// timer outlives it: goleak checks the package).
func TestAsyncWallDelayLongerThanTheRun(t *testing.T) {
	d, _ := protocol.ParseDelay("1h")
	j, _ := protocol.ParseDelay("uniform:0s..1ms")
	e := NewEngine(Options{Mode: Async, Async: AsyncOptions{DopamineDelay: d, Jitter: j}})
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 3)
	cfg.MaxTrials = 300
	res := asyncRun(t, e, cfg)
	if res.End != sim.Capped || res.Async.Delivered != 0 || res.Async.Missed != res.Async.Sent || res.Async.Sent == 0 {
		t.Errorf("end %v, stats %+v", res.End, *res.Async)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// A run that fails stops its timers: nothing is released to a stopped actor
// (a dead letter would fail Close).
func TestAsyncWallDelayInterrupted(t *testing.T) {
	d, _ := protocol.ParseDelay("exp:100us")
	e := NewEngine(Options{Mode: Async, Async: AsyncOptions{ActivationDelay: d, DopamineDelay: d}})
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 5)
	cfg.MaxTrials = 1 << 30
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	cfg.Observe = func(sim.TrialStats) {
		if n++; n == 50 {
			cancel()
		}
	}
	if _, err := e.Run(ctx, cfg); err == nil {
		t.Fatal("an interrupted run returned no error")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// testPool returns a worker pool that is closed when the test ends.
func testPool(t *testing.T) *workerPool {
	p := newWorkerPool()
	t.Cleanup(p.close)
	return p
}
