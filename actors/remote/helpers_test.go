package remote

import (
	"bytes"
	"context"
	"testing"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/actors/protocol"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
)

// run trains cfg on e and fails the test on an error.
func run(t *testing.T, e *actors.Engine, cfg sim.Config) sim.Result {
	t.Helper()
	res, err := e.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// asyncRun runs cfg on an async engine and checks runcheck.Async's
// invariants, here across processes.
func asyncRun(t *testing.T, e *actors.Engine, cfg sim.Config) sim.Result {
	t.Helper()
	res := run(t, e, cfg)
	runcheck.Async(t, cfg, res)
	return res
}

// logRun runs cfg in one process with a message log at level and returns
// the result and the log's bytes.
func logRun(t *testing.T, cfg sim.Config, level msglog.Level) (sim.Result, []byte) {
	t.Helper()
	var buf bytes.Buffer
	res, err := actors.Run(context.Background(), cfg, actors.Options{Log: &buf, LogLevel: level})
	if err != nil {
		t.Fatal(err)
	}
	return res, buf.Bytes()
}

// checkAsyncLog runs an async XOR run on placer (signals 2 trials late, 5 %
// of activations dropped) and checks its level-all log (runcheck.AsyncLog).
func checkAsyncLog(t *testing.T, placer actors.Placer) {
	t.Helper()
	var buf bytes.Buffer
	d, _ := protocol.ParseDelay("2")
	e := actors.NewEngine(actors.Options{Placer: placer, Mode: actors.Async, Async: actors.AsyncOptions{DopamineDelay: d, DropActivation: 0.05}, Log: &buf, LogLevel: msglog.All})
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 4)
	cfg.MaxTrials = 200
	res := asyncRun(t, e, cfg)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	runcheck.AsyncLog(t, cfg, res, buf.Bytes())
}
