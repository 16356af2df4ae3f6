package actors

import (
	"runtime"
	"sync"
)

// workerPool runs the mailboxes of the actors that use it on a fixed set of
// worker goroutines, one per CPU the Go runtime may use (GOMAXPROCS when the
// pool starts): an actor with messages waiting is queued once (protoactor's
// mailbox schedules itself only when it goes from idle to running) and a free
// worker drains it. Unlike the inline dispatcher, a send never runs the
// receiver on the sender's goroutine, so the neurons of a layer compute on
// every core; unlike protoactor's default one, a wake-up costs a queue push,
// not a new goroutine. Safe for concurrent use; close stops the workers
// after the queue drains.
type workerPool struct {
	mu      sync.Mutex
	ready   sync.Cond
	queue   []func() // FIFO: queue[head:] waits
	head    int
	waiting int // workers asleep on ready
	closed  bool
	done    sync.WaitGroup
}

func newWorkerPool() *workerPool {
	p := &workerPool{}
	p.ready.L = &p.mu
	n := runtime.GOMAXPROCS(0)
	p.done.Add(n)
	for range n {
		go p.work()
	}
	return p
}

// Schedule queues a mailbox's run; it never blocks (protoactor's
// actor.Dispatcher).
func (p *workerPool) Schedule(fn func()) {
	p.mu.Lock()
	p.queue = append(p.queue, fn)
	if p.waiting > 0 {
		p.ready.Signal()
	}
	p.mu.Unlock()
}

// Throughput is how many messages a mailbox processes before it yields its
// worker's goroutine to the Go scheduler (protoactor's actor.Dispatcher).
func (p *workerPool) Throughput() int { return throughput }

// work runs queued mailboxes until the pool is closed.
func (p *workerPool) work() {
	defer p.done.Done()
	for {
		fn, ok := p.next()
		if !ok {
			return
		}
		fn()
	}
}

// next takes the oldest queued run, sleeping while there is none; false
// once the pool is closed.
func (p *workerPool) next() (func(), bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.head == len(p.queue) {
		if p.closed {
			return nil, false
		}
		p.waiting++
		p.ready.Wait()
		p.waiting--
	}
	fn := p.queue[p.head]
	p.queue[p.head] = nil
	p.head++
	if p.head == len(p.queue) { // empty: reuse the backing array
		p.queue, p.head = p.queue[:0], 0
	}
	return fn, true
}

// close stops the workers once nothing is queued and waits for them.
func (p *workerPool) close() {
	p.mu.Lock()
	p.closed = true
	p.ready.Broadcast()
	p.mu.Unlock()
	p.done.Wait()
}
