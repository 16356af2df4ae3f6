package actors

import (
	"container/heap"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// wallLine holds one actor's outgoing messages for a wall-clock delay (async
// mode). The line has one timer, armed for the earliest message due; when it
// fires, the line posts a release to its actor through the actor's own
// mailbox, and the actor sends every message due by then. So the sends
// happen in the actor's context (the message log and the counts see each
// message when it leaves), one post serves a burst of messages, and messages
// held for different times leave in the order they fall due: delays reorder
// them. Messages due at the same time leave in the order they were held.
//
// hold and take are called by the owning actor only; the timer calls fire on
// its own goroutine. Every held message is, at any time, pending, released
// (taken) or missed (still held at close). After close no release is
// posted, except by a fire that was already posting; quiesce waits for
// those, so the engine calls it before it stops the actors, and no release
// reaches a stopped actor. The zero value is not usable; call newWallLine.
type wallLine struct {
	root *actor.RootContext

	mu      sync.Mutex
	idle    sync.Cond // signalled when posting drops to 0
	self    *actor.PID
	timer   *time.Timer
	closed  bool
	ticking bool // a release is posted and not yet taken
	posting int  // fire calls posting a release right now
	seq     uint64
	held    wallHeap

	// Counts, read by the owner after close. heldSum is the wall time the
	// released messages actually waited (timers fire late: on a busy
	// 2-core machine about a millisecond at the least).
	added, released, missed uint64
	heldSum                 time.Duration
}

type wallHeld struct {
	at  time.Time // when it was held
	due time.Time
	seq uint64
	to  *actor.PID
	msg any
}

// release tells a wallLine's actor that messages are due. It is an
// internal message: never logged, counted or bounded.
type release struct{}

func newWallLine(root *actor.RootContext) *wallLine {
	l := &wallLine{root: root}
	l.idle.L = &l.mu
	return l
}

// hold keeps msg for to until d has passed.
func (l *wallLine) hold(self *actor.PID, d time.Duration, to *actor.PID, msg any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.self = self
	l.added++
	if l.closed { // a failed run's actor, until it stops
		l.missed++
		return
	}
	now := time.Now()
	e := wallHeld{at: now, due: now.Add(d), seq: l.seq, to: to, msg: msg}
	l.seq++
	heap.Push(&l.held, e)
	if l.held[0].seq == e.seq && !l.ticking {
		l.arm(d)
	}
}

// arm sets the timer to fire after d. Call with mu held.
func (l *wallLine) arm(d time.Duration) {
	if l.timer == nil {
		l.timer = time.AfterFunc(d, l.fire)
		return
	}
	l.timer.Reset(d)
}

// fire posts a release to the owner unless one is pending or the line is
// closed. The lock is not held while posting: with the inline dispatcher
// the post may run the owner's Receive, which takes the lock.
func (l *wallLine) fire() {
	l.mu.Lock()
	if l.closed || l.ticking {
		l.mu.Unlock()
		return
	}
	l.ticking = true
	l.posting++
	self := l.self
	l.mu.Unlock()
	l.root.Send(self, &release{})
	l.mu.Lock()
	l.posting--
	if l.posting == 0 {
		l.idle.Broadcast()
	}
	l.mu.Unlock()
}

// take passes every message due by now to send, in order, and arms the
// timer for the next one.
func (l *wallLine) take(send func(to *actor.PID, msg any)) {
	l.mu.Lock()
	l.ticking = false
	if l.closed {
		l.mu.Unlock()
		return
	}
	now := time.Now()
	var due []wallHeld
	for len(l.held) > 0 && !l.held[0].due.After(now) {
		e := heap.Pop(&l.held).(wallHeld)
		l.heldSum += now.Sub(e.at)
		due = append(due, e)
	}
	l.released += uint64(len(due))
	if len(l.held) > 0 {
		l.arm(l.held[0].due.Sub(now))
	}
	l.mu.Unlock()
	for _, e := range due {
		send(e.to, e.msg)
	}
}

// close stops the line: every message still held is missed. It does not
// wait for a release being posted: with the inline dispatcher the owner may
// be running on the very timer goroutine that is posting. Closing twice is
// harmless; any goroutine may close.
func (l *wallLine) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
	}
	l.missed += uint64(len(l.held))
	l.held = nil
}

// meanHold returns the mean wall time released messages waited, in
// nanoseconds (0 if none was released).
func (l *wallLine) meanHold() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released == 0 {
		return 0
	}
	return float64(l.heldSum) / float64(l.released)
}

// holds returns the released count and their total wait.
func (l *wallLine) holds() (uint64, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.released, l.heldSum
}

// quiesce closes the line and waits until no release is being posted. It
// must not be called from the owner's Receive (see close).
func (l *wallLine) quiesce() {
	l.close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.posting > 0 {
		l.idle.Wait()
	}
}

// wallHeap orders held messages by (due, seq).
type wallHeap []wallHeld

func (h wallHeap) Len() int { return len(h) }
func (h wallHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h wallHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *wallHeap) Push(x any)   { *h = append(*h, x.(wallHeld)) }
func (h *wallHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
