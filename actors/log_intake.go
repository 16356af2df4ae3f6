package actors

import (
	"fmt"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/actors/wire"
	"github.com/dopasim/dopasim/environment/sim"
)

// The message log of a run placed on nodes: the records the neurons ship
// from their nodes (shiplog.go), taken into the coordinator's log as if
// they had been captured there.

// onNodes says that the run's neurons are placed in other processes, with
// IDs that start with idPrefix (Placer.IDPrefix): at level messages and
// above they ship their records (shipLog), which the run actor passes to
// take.
func (r *runLog) onNodes(idPrefix string, net *sim.Network) {
	r.placedPrefix = idPrefix
	if r.level < msglog.Messages {
		return // the neurons record nothing: a trial is complete with its outcome
	}
	r.shipped, r.receivers = true, map[string]bool{"env": true}
	k := 0
	for l, layer := range net.Layers {
		for i := range layer.Neurons {
			a := r.neuronLog(k, l, sim.NeuronName(layer.Tag, i))
			r.proxies, r.receivers[a.name] = append(r.proxies, a), true
			k++
		}
	}
	r.nextApplied = make([]uint64, k)
}

// take records what a placed neuron shipped, as the neuron in one process
// would have recorded it. Only the run actor calls it (the stand-ins'
// caches are its own). A batch that breaks the protocol (a neuron or a
// receiver the run does not have, a record of a trial already written or
// too far ahead, a sync signal out of turn) changes nothing and is an
// error, which fails the run.
func (r *runLog) take(b *wire.LogBatch) error {
	if int(b.Neuron) >= len(r.proxies) {
		return fmt.Errorf("log records of neuron %d, which the run does not have", b.Neuron)
	}
	a := r.proxies[b.Neuron]
	var recs []logRecord
	for _, s := range b.Sent {
		m := s.Msg
		if m == nil {
			return fmt.Errorf("%s: a logged activation without its message", a.name)
		}
		p := &pendingMsg{from: a, kind: msglog.KindActivation, trial: m.Trial,
			act: protocol.Activation{Trial: m.Trial, Step: m.Step, Slot: m.Slot, Vals: m.Vals, Lost: m.Lost, Upstream: m.Upstream}}
		p.msg, p.key = &p.act, recordKey{trial: m.Trial, stage: a.stage, sub: m.Step, actor: a.index}
		for _, to := range s.To {
			if !r.receivers[to.GetTo()] {
				return fmt.Errorf("%s: a logged activation to %q, which the run does not have", a.name, to.GetTo())
			}
			key := p.key
			key.seq = to.GetSeq()
			recs = append(recs, logRecord{key: key, msg: p, to: a.nameField(to.GetTo())})
		}
	}
	for _, w := range b.Weights {
		if n := len(a.synapses); len(w.W) != n || len(w.Xi) != n || len(w.WNew) != n {
			return fmt.Errorf("%s: logged weight change of %d, %d and %d values for %d parameters", a.name, len(w.W), len(w.Xi), len(w.WNew), n)
		}
		recs = a.weightRecords(recs, &protocol.Dopamine{Trial: w.Trial, Delta: w.Delta, Eta: w.Eta}, w.W, w.Xi, w.WNew, asyncChange{nextTrial: w.NextTrial, updateSeq: w.UpdateSeq})
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	for i := range recs {
		t := recs[i].key.trial
		if err := r.window(t); err != nil {
			return fmt.Errorf("%s: %w", a.name, err)
		}
		if t < r.written && !r.async {
			return fmt.Errorf("%s: a record of trial %d, which is already written", a.name, t)
		}
	}
	if b.Applied {
		if err := r.window(b.Trial); err != nil {
			return fmt.Errorf("%s: %w", a.name, err)
		}
		if next := &r.nextApplied[b.Neuron]; !r.async {
			if b.Trial != *next {
				return fmt.Errorf("%s: records after the signal of trial %d, expected trial %d", a.name, b.Trial, *next)
			}
			*next++
		}
	}
	var late []logRecord
	for _, rec := range recs {
		if t := rec.key.trial; t < r.written {
			late = append(late, rec) // async: its trial is written; it follows as it comes
		} else {
			r.hold(t, rec)
		}
	}
	if len(late) > 0 {
		r.send()
		r.submit(batch{recs: append(r.batch(), late...)})
	}
	if b.Applied && b.Trial >= r.written {
		r.trial(b.Trial).applied++
		r.flushLocked()
	}
	return nil
}
