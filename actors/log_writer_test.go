package actors

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"go.uber.org/zap"
)

// The writer builds a message record from halves encoded once per message
// around each receiver's "to" and "seq"; the result must be the bytes zap
// writes for the whole record, whatever the label, names and values.
func TestMessageRecordSplice(t *testing.T) {
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 1)
	cfg.TwoSided = true
	net, err := sim.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := &logSink{w: io.Discard, level: msglog.All, failed: make(chan struct{})}
	r := newRunLog(sink, "seed-1", `odd "label"\ with`+"\x01ctl/seed-1", cfg, net)
	a := &actorLog{run: r, name: `neuron/h/000`, index: 1, stage: 1}
	pids := []*actor.PID{{Id: "seed-1/env"}, {Id: "seed-1/neuron/o/000"}, {Id: `seed-1/we"ird`}}
	msgs := []any{
		&protocol.Stimulus{Trial: 0, X: []float64{0, 1, -0.0, 1e-300}},
		&protocol.Activation{Trial: 4, Step: 7, Slot: 3, Vals: []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.1}},
		&protocol.Scored{Trial: 2, Losses: neuromod.Losses{Clean: 0.25, Plus: math.NaN(), Minus: 1e300}, End: sim.Diverged, Reason: "δ \"overflow\"\n"},
		&protocol.Dopamine{Trial: 1, Delta: -2.5e-17, Eta: 3},
		&protocol.Finish{Trial: 3},
	}
	w := &recordWriter{run: r}
	for _, m := range msgs {
		for _, pid := range pids {
			a.message(pid, m)
		}
	}
	a.seq = math.MaxUint64 - 1
	a.message(pids[0], &protocol.Dopamine{Trial: 2})
	var recs []logRecord // trials 0 … 4, none complete: all in the ring
	for i := range r.ring {
		recs = append(recs, r.ring[i].recs...)
	}
	if len(recs) != 3*len(msgs)+1 {
		t.Fatalf("%d records captured, want %d", len(recs), 3*len(msgs)+1)
	}
	for i := range recs {
		rec := &recs[i]
		w.buf = w.buf[:0]
		w.append(rec)
		p := rec.msg
		f := []zap.Field{zap.Uint64("trial", p.trial), zap.String("from", a.name),
			zap.String("to", strings.TrimPrefix(pidOf(rec.to, pids), "seed-1/")), zap.Uint64("seq", rec.key.seq)}
		want := r.encode(p.kind, a.payload(f, p))
		if !bytes.Equal(w.buf, want.Bytes()) {
			t.Errorf("spliced:\n%s\nzap:\n%s", w.buf, want.Bytes())
		}
		want.Free()
		if !json.Valid(w.buf) {
			t.Errorf("not JSON: %s", w.buf)
		}
	}
}

// pidOf returns the id of the receiver whose encoded "to" field is to.
func pidOf(to []byte, pids []*actor.PID) string {
	for _, p := range pids {
		b, _ := json.Marshal(strings.TrimPrefix(p.Id, "seed-1/"))
		if bytes.Equal(to, append([]byte(`,"to":`), b...)) {
			return p.Id
		}
	}
	return "?"
}

// The writer's budget lets a batch in only while the batches not yet
// written leave it room, and a batch larger than the budget only alone.
func TestWriterBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBudget(100)
		b.take(60)
		took := make(chan int, 3)
		go func() { b.take(50); took <- 50 }()
		synctest.Wait()
		if len(took) != 0 {
			t.Fatal("60 + 50 bytes taken with a budget of 100")
		}
		b.give(60)
		if n := <-took; n != 50 {
			t.Fatalf("took %d", n)
		}
		go func() { b.take(500); took <- 500 }() // larger than the budget: waits for the 50
		synctest.Wait()
		if len(took) != 0 {
			t.Fatal("a batch larger than the budget went beside another")
		}
		b.give(50)
		if n := <-took; n != 500 {
			t.Fatalf("took %d", n)
		}
		b.give(500)
	})
}
