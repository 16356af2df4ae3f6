package protocol

import (
	"fmt"
	"time"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/synapse"
)

// Ledger is the run's accounting, the core of the run actor: it takes the
// final reports of the neurons, the environment and the dopamine actor
// (Step), and once all are in checks that every message is accounted for
// and builds the run's result (Result). Not safe for concurrent use.
type Ledger struct {
	cfg   sim.Config
	async bool
	// firstOutput is the canonical index of the first output neuron, whose
	// evaluations count the run's forward passes.
	firstOutput int

	in, out   Counts        // trial messages received and sent, over all reports so far
	dropped   Counts        // of out, lost on the way (async --drop, --mailbox)
	overflow  Counts        // of dropped, lost to a full mailbox
	blocked   Counts        // sends that waited for room in a mailbox
	overtaken uint64        // inputs that arrived after a later trial's
	released  uint64        // activations held in wall time and released
	heldSum   time.Duration // their total wait
	envLost   uint64        // trials the environment scored as lost
	applied   uint64        // async: signals the neurons received (applied or skipped)
	skipped   uint64        // async: of those, skipped for the update rate
	stale     []uint64      // async: their staleness histogram

	params       [][]float64 // by canonical index; nil until reported
	reports      int
	sent         uint64
	evals        uint64
	scratchBytes uint64
	end          *RunEnd
	env          *EnvReport
}

// NewLedger returns the accounting of a run of cfg with the given number of
// neurons, the first output neuron at canonical index firstOutput; async
// runs drain the network before they end, so their message counts must
// balance.
func NewLedger(cfg sim.Config, neurons, firstOutput int, async bool) *Ledger {
	return &Ledger{cfg: cfg, async: async, firstOutput: firstOutput, params: make([][]float64, neurons)}
}

// Step takes a final report (*NeuronReport, *EnvReport or *RunEnd) and
// reports whether every report is in. Its error is a protocol error (the
// run ended twice), which fails the run.
func (l *Ledger) Step(m any) (complete bool, err error) {
	switch m := m.(type) {
	case *NeuronReport:
		l.neuron(m)
	case *EnvReport:
		l.in, l.out, l.dropped = l.in.Plus(m.In), l.out.Plus(m.Out), l.dropped.Plus(m.Dropped)
		l.envLost = m.LostTrials
		l.env = m
	case *RunEnd:
		if l.end != nil {
			return false, fmt.Errorf("the run ended twice, at trials %d and %d", l.end.Trial, m.Trial)
		}
		l.in, l.out = l.in.Plus(m.In), l.out.Plus(m.Out)
		l.end = m
	}
	return l.end != nil && l.env != nil && l.reports == len(l.params), nil
}

func (l *Ledger) neuron(m *NeuronReport) {
	l.params[m.Index] = m.Params
	l.sent += m.Sent
	if m.Index == l.firstOutput {
		// An output neuron evaluates each track once per pass of the
		// whole network (a recurrent hidden neuron once per time step).
		l.evals = m.Evals
	}
	l.scratchBytes += m.ScratchBytes
	l.in, l.out, l.dropped = l.in.Plus(m.In), l.out.Plus(m.Out), l.dropped.Plus(m.Dropped).Plus(m.Overflow)
	l.overflow, l.blocked = l.overflow.Plus(m.Overflow), l.blocked.Plus(m.Blocked)
	l.overtaken += m.Overtaken
	l.released += m.Released
	l.heldSum += m.HeldSum
	l.applied += m.Applied + m.Skipped
	l.skipped += m.Skipped
	for k, n := range m.Stale {
		l.stale = countStaleN(l.stale, uint64(k), n)
	}
	l.reports++
}

// Result checks the run's conservation laws and returns its result, once
// Step reported every report in; others are the messages sent by actors
// that send no report (a recurrent layer's fan-out). Its error is a broken
// conservation: in async mode, every trial message sent was delivered or
// dropped, and every signal the delay line delivered was received or lost
// to a full mailbox.
func (l *Ledger) Result(others uint64) (sim.Result, error) {
	e := l.end
	// In sync mode, stimuli presented ahead may still arrive after a
	// neuron's final report: only async runs drain the network.
	for kind := range NumKinds {
		if l.async && l.in[kind]+l.dropped[kind] != l.out[kind] {
			return sim.Result{}, fmt.Errorf("%s messages: %d sent, %d delivered, %d dropped", kind, l.out[kind], l.in[kind], l.dropped[kind])
		}
	}
	res := sim.Result{
		Seed: l.cfg.Seed, End: e.End, Reason: e.Reason,
		Trials: e.Trial + 1, Updates: e.Trial,
		Loss: e.Loss, Outputs: l.env.Outputs, Eta: e.Eta, Curve: e.Curve,
		Messages: l.sent + e.Sent + l.env.Sent + others,
	}
	for _, p := range l.params {
		res.Params = append(res.Params, p...)
	}
	res.Digest = synapse.Digest(res.Params)
	res.NumParams = len(res.Params)
	res.Forward = l.evals
	res.ScratchBytes = l.scratchBytes
	res.StateBytes = e.State
	if e.Outputs != nil {
		res.Outputs = e.Outputs
	}
	res.Spectral = e.Spectral
	if e.Async != nil {
		a, err := l.asyncStats(e.Async)
		if err != nil {
			return sim.Result{}, err
		}
		res.Async = a
	}
	return res, nil
}

// asyncStats completes the dopamine core's account of the signals with the
// neurons' and the environment's.
func (l *Ledger) asyncStats(a *sim.AsyncStats) (*sim.AsyncStats, error) {
	if a.Delivered != l.applied+l.overflow[KindDopamine] {
		return nil, fmt.Errorf("%d dopamine signals delivered but %d received and %d lost to full mailboxes", a.Delivered, l.applied, l.overflow[KindDopamine])
	}
	a.Delivered, a.Overflowed = l.applied, l.overflow[KindDopamine]
	a.Overtaken = l.overtaken + l.env.Overtaken
	if l.released > 0 {
		a.ActivationHoldNs = float64(l.heldSum) / float64(l.released)
	}
	a.Staleness, a.Skipped = l.stale, l.skipped
	a.LostTrials = l.envLost + l.dropped[KindScored]
	a.LastTrialLost = l.env.EndedLost
	a.Messages = map[string]sim.MessageCount{}
	for kind := range NumKinds {
		a.Messages[kind.String()] = sim.MessageCount{Sent: l.out[kind], Delivered: l.in[kind], Dropped: l.dropped[kind],
			Overflowed: l.overflow[kind], Blocked: l.blocked[kind]}
	}
	a.Messages[msglog.KindDopamine] = sim.MessageCount{Sent: a.Sent, Delivered: a.Delivered,
		Dropped: a.Dropped + a.Missed + a.Overflowed, Overflowed: a.Overflowed, Blocked: l.blocked[KindDopamine]}
	if a.Staleness == nil {
		a.Staleness = []uint64{} // no signal applied: an empty histogram, not null
	}
	return a, nil
}
