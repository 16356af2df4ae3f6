package actors

import (
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/dopasim/dopasim/actors/protocol"
)

// Overflow is what a bounded neuron mailbox does with a trial message that
// arrives when it is full (async --mailbox-full).
type Overflow uint8

const (
	// OverflowDrop loses the message, as an erasure its receiver notices
	// (a stimulus or activation arrives as Lost, so the trial is lost
	// downstream, as with --drop); a dopamine signal is just lost.
	OverflowDrop Overflow = iota
	// OverflowBlock makes the sender wait until the receiver has taken a
	// message: back-pressure. It needs the goroutine dispatcher.
	OverflowBlock
)

// String returns the overflow's flag name.
func (o Overflow) String() string {
	if o == OverflowBlock {
		return "block"
	}
	return "drop"
}

// ParseOverflow returns the overflow named s (drop or block).
func ParseOverflow(s string) (Overflow, error) {
	switch s {
	case "drop":
		return OverflowDrop, nil
	case "block":
		return OverflowBlock, nil
	}
	return 0, fmt.Errorf("unknown mailbox overflow %q (want drop or block)", s)
}

// bound limits the trial messages waiting in one neuron's mailbox: at most
// limit stimuli, activations and dopamine signals that were posted and not
// yet processed. Erasure notices (Lost), the end of the run and the run's
// own plumbing are not counted and always get in: they stand for what the
// receiver would notice anyway (a gap in a sequence, a closed connection).
// The sender's goroutine posts, the receiver's processes; the counts are
// safe for concurrent use.
type bound struct {
	limit int
	block bool

	mu       sync.Mutex
	room     sync.Cond // signalled when a counted message is processed
	closed   bool      // the run is stopping: nobody waits any more
	waiting  int       // counted messages posted and not processed
	overflow protocol.Counts
	blocked  protocol.Counts
}

func newBound(limit int, o Overflow) *bound {
	b := &bound{limit: limit, block: o == OverflowBlock}
	b.room.L = &b.mu
	return b
}

// props returns the mailbox option of a neuron bounded by b.
func (b *bound) props() actor.PropsOption {
	return actor.WithMailbox(func() actor.Mailbox {
		return boundedMailbox{Mailbox: actor.Unbounded(b)(), b: b}
	})
}

// boundedKind returns the kind of a message a bounded mailbox counts.
func boundedKind(msg any) (protocol.Kind, bool) {
	switch m := actor.UnwrapEnvelopeMessage(msg).(type) {
	case *protocol.Stimulus:
		return protocol.KindStimulus, !m.Lost
	case *protocol.Activation:
		return protocol.KindActivation, !m.Lost
	case *protocol.Dopamine:
		return protocol.KindDopamine, true
	}
	return 0, false
}

// enter takes room for a message of kind k. It reports false if the mailbox
// is full and the message is to be dropped; with block it waits for room.
func (b *bound) enter(k protocol.Kind) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiting >= b.limit {
		if !b.block {
			b.overflow[k]++
			return false
		}
		b.blocked[k]++
		for b.waiting >= b.limit && !b.closed {
			b.room.Wait()
		}
	}
	b.waiting++
	return true
}

// close wakes every waiting sender and lets every later one through: a run
// that stops (or fails, and protoactor suspends the failed neuron's mailbox
// so that nothing frees room) must not leave its senders waiting for ever.
func (b *bound) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.room.Broadcast()
}

// counts returns the messages lost to overflow and the sends that waited,
// per kind.
func (b *bound) counts() (overflow, blocked protocol.Counts) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.overflow, b.blocked
}

// MessageReceived frees the room of a processed message (the mailbox calls
// it after the actor's Receive returns).
func (b *bound) MessageReceived(msg any) {
	if _, ok := boundedKind(msg); !ok {
		return
	}
	b.mu.Lock()
	b.waiting--
	b.room.Signal()
	b.mu.Unlock()
}

func (b *bound) MailboxStarted()   {}
func (b *bound) MessagePosted(any) {}
func (b *bound) MailboxEmpty()     {}

// boundedMailbox is protoactor's unbounded mailbox behind a bound's door.
type boundedMailbox struct {
	actor.Mailbox
	b *bound
}

// PostUserMessage posts msg if there is room; otherwise (drop) it posts the
// erasure of a stimulus or activation, and nothing for a dopamine signal.
func (m boundedMailbox) PostUserMessage(msg any) {
	if kind, ok := boundedKind(msg); ok && !m.b.enter(kind) {
		switch v := actor.UnwrapEnvelopeMessage(msg).(type) {
		case *protocol.Stimulus:
			msg = &protocol.Stimulus{Trial: v.Trial, Lost: true}
		case *protocol.Activation:
			msg = &protocol.Activation{Trial: v.Trial, Step: v.Step, Slot: v.Slot, Lost: true}
		default:
			return
		}
	}
	m.Mailbox.PostUserMessage(msg)
}
