package actors

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/neuromod"
)

// gated is an actor that holds its first message until gate is closed and
// reports every message it processes.
type gated struct {
	inside chan struct{}
	gate   chan struct{}
	got    chan any
	first  bool
}

func (g *gated) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *protocol.Stimulus, *protocol.Activation, *protocol.Dopamine, *protocol.Finish:
		if !g.first {
			g.first = true
			close(g.inside)
			<-g.gate
		}
		g.got <- m
	}
}

func newGated(sys *actor.ActorSystem, b *bound) (*gated, *actor.PID) {
	g := &gated{inside: make(chan struct{}), gate: make(chan struct{}), got: make(chan any, 16)}
	return g, sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return g }, b.props()))
}

func (g *gated) next(t *testing.T) any {
	t.Helper()
	select {
	case m := <-g.got:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message after 10 s")
		return nil
	}
}

// A full mailbox that drops turns a stimulus or an activation into an
// erasure its receiver notices, loses a dopamine signal, and lets the end of
// the run through.
func TestBoundDropsAsErasures(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	b := newBound(1, OverflowDrop)
	g, pid := newGated(sys, b)
	sys.Root.Send(pid, &protocol.Stimulus{Trial: 0, X: []float64{1}})
	<-g.inside // stimulus 0 is being processed: it still takes the room
	sys.Root.Send(pid, &protocol.Stimulus{Trial: 1, X: []float64{1}})
	sys.Root.Send(pid, &protocol.Activation{Trial: 2, Slot: 3, Vals: []float64{1}})
	sys.Root.Send(pid, &protocol.Dopamine{Trial: 3})
	sys.Root.Send(pid, &protocol.Finish{Trial: 4})
	close(g.gate)
	if m, ok := g.next(t).(*protocol.Stimulus); !ok || m.Trial != 0 || m.Lost {
		t.Fatalf("first message %+v, want stimulus 0", m)
	}
	if m, ok := g.next(t).(*protocol.Stimulus); !ok || m.Trial != 1 || !m.Lost {
		t.Fatalf("second message %+v, want the erasure of stimulus 1", m)
	}
	if m, ok := g.next(t).(*protocol.Activation); !ok || m.Trial != 2 || m.Slot != 3 || !m.Lost || m.Upstream {
		t.Fatalf("third message %+v, want the erasure of activation 2, slot 3", m)
	}
	if m, ok := g.next(t).(*protocol.Finish); !ok || m.Trial != 4 {
		t.Fatalf("fourth message %+v, want finish (the signal lost)", m)
	}
	over, blocked := b.counts()
	if over != (protocol.Counts{1, 1, 0, 1, 0}) || blocked != (protocol.Counts{}) {
		t.Errorf("overflow %v, blocked %v", over, blocked)
	}
	// The room is back: the next message gets in whole.
	sys.Root.Send(pid, &protocol.Stimulus{Trial: 5, X: []float64{1}})
	if m, ok := g.next(t).(*protocol.Stimulus); !ok || m.Lost {
		t.Fatalf("after the mailbox emptied: %+v", m)
	}
}

// A full mailbox that blocks makes the sender wait, and loses nothing.
func TestBoundBlocks(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	b := newBound(1, OverflowBlock)
	g, pid := newGated(sys, b)
	sys.Root.Send(pid, &protocol.Stimulus{Trial: 0, X: []float64{1}})
	<-g.inside
	sent := make(chan struct{})
	go func() {
		sys.Root.Send(pid, &protocol.Stimulus{Trial: 1, X: []float64{1}})
		close(sent)
	}()
	// Wait for the sender to block (it counts itself before it waits).
	for deadline := time.Now().Add(10 * time.Second); ; runtime.Gosched() {
		if _, bl := b.counts(); bl[0] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second send did not block on the full mailbox")
		}
	}
	select {
	case <-sent:
		t.Fatal("the send returned while the mailbox was full")
	default:
	}
	close(g.gate)
	<-sent
	for trial := range uint64(2) {
		if m, ok := g.next(t).(*protocol.Stimulus); !ok || m.Trial != trial || m.Lost {
			t.Fatalf("message %d: %+v", trial, m)
		}
	}
	if over, _ := b.counts(); over != (protocol.Counts{}) {
		t.Errorf("overflow %v with a blocking mailbox", over)
	}
}

func TestParseOverflow(t *testing.T) {
	for _, o := range []Overflow{OverflowDrop, OverflowBlock} {
		if got, err := ParseOverflow(o.String()); err != nil || got != o {
			t.Errorf("ParseOverflow(%q) = %v, %v", o.String(), got, err)
		}
	}
	if _, err := ParseOverflow("spill"); err == nil || !strings.Contains(err.Error(), "drop or block") {
		t.Errorf("ParseOverflow(spill): %v", err)
	}
}

// Bounded mailboxes under load: conservation holds with the losses counted
// (drop) or with none (block); asyncRun checks the invariants.
func TestAsyncMailboxBound(t *testing.T) {
	for _, full := range []Overflow{OverflowDrop, OverflowBlock} {
		e := NewEngine(Options{Mode: Async, Dispatcher: Goroutine, Lookahead: 8, Async: AsyncOptions{Mailbox: 1, MailboxFull: full}})
		var over, blocked uint64
		for seed := uint64(1); seed <= 3; seed++ {
			cfg := runcheck.XORConfig(neuromod.Dopamine1, seed)
			cfg.MaxTrials = 2000
			res := asyncRun(t, e, cfg)
			for _, m := range res.Async.Messages {
				over += m.Overflowed
				blocked += m.Blocked
				if m.Overflowed > m.Dropped {
					t.Errorf("%v seed %d: %+v: more overflowed than dropped", full, seed, m)
				}
			}
			if full == OverflowBlock && res.Async.LostTrials != 0 {
				t.Errorf("block, seed %d: %d trials lost", seed, res.Async.LostTrials)
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("mailbox 1, %v: %d messages lost to full mailboxes, %d sends waited", full, over, blocked)
		if full == OverflowBlock && over != 0 {
			t.Errorf("block: %d messages lost", over)
		}
	}
}

func TestAsyncRefusesBadDeliveryKnobs(t *testing.T) {
	trials, _ := protocol.ParseDelay("3")
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Mode: Async, Async: AsyncOptions{ActivationDelay: trials}}, "in trials"},
		{Options{Mode: Async, Async: AsyncOptions{Mailbox: -1}}, "mailbox bound"},
		{Options{Mode: Async, Async: AsyncOptions{MailboxFull: OverflowBlock}}, "mailbox bound"},
		{Options{Mode: Async, Async: AsyncOptions{Mailbox: 2, MailboxFull: OverflowBlock}}, "goroutine dispatcher"},
		{Options{Async: AsyncOptions{Mailbox: 2}}, "sync mode"},
	} {
		_, err := Run(context.Background(), runcheck.XORConfig(neuromod.Dopamine1, 1), c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want one mentioning %q", c.opt.Async, err, c.want)
		}
	}
}

// A neuron that fails while senders wait for room in a blocking mailbox:
// the run ends with the neuron's error instead of hanging (protoactor
// suspends the failed neuron's mailbox, so nothing would free room).
func TestAsyncBlockingMailboxFailureEnds(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		cfg := runcheck.XORConfig(neuromod.Dopamine1, seed)
		cfg.Task = misshapen{at: 200}
		done := make(chan error, 1)
		go func() {
			_, err := Run(context.Background(), cfg, Options{Mode: Async, Dispatcher: Goroutine, Lookahead: 8,
				Async: AsyncOptions{Mailbox: 1, MailboxFull: OverflowBlock}})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "Forward input has 3 values") {
				t.Errorf("seed %d: err %v, want the neuron's failure", seed, err)
			}
		case <-time.After(2 * time.Minute): // a hang detector, not a wait for actors
			t.Fatalf("seed %d: a failing neuron with a blocking mailbox hung the run", seed)
		}
	}
}
