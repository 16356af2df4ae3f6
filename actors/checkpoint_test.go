package actors

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/dopasim/dopasim/actors/internal/runcheck"
	"github.com/dopasim/dopasim/environment/reference"
	"github.com/dopasim/dopasim/environment/sim"
	"github.com/dopasim/dopasim/neuromod"
	"github.com/dopasim/dopasim/synapse"
)

// A checkpoint after trial t's update is the network a run of t+2 trials
// ends with (its last trial judged, not learned), in both engines and on
// every dispatcher: the neurons' snapshots, gathered by messages, are the
// reference engine's parameters bit for bit, spectral resets included.
func TestCheckpointsAreTheTruncatedRuns(t *testing.T) {
	xor := runcheck.XORConfig(neuromod.Fixed, 3)
	xor.Mod.Eta, xor.MaxTrials = 0.01, 40 // learns slowly: runs its 40 trials
	spectral := runcheck.ChaosConfig(t, neuromod.Dopamine1, 5)
	spectral.Spectral = sim.SpectralControl{Radius: 0.9, Every: 3}
	node := runcheck.ChaosConfig(t, neuromod.Dopamine2, 2)
	node.NodePerturbation = true
	for i, cfg := range []sim.Config{xor, spectral, node, runcheck.MultivariateChaosConfig(t, neuromod.Dopamine2, 6)} {
		var mu sync.Mutex
		got := map[uint64]string{}
		cfg.Checkpoints = sim.Checkpoints{Every: 7, Take: func(seed, trial uint64, params []float64) {
			mu.Lock()
			defer mu.Unlock()
			got[trial] = synapse.Digest(params)
		}}
		ref, err := reference.Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := got
		if len(want) != int((ref.Trials-1)/7) {
			t.Fatalf("config %d: %d checkpoints over %d trials, want one every 7 but the last", i, len(want), ref.Trials)
		}
		for trial, digest := range want {
			short := cfg
			short.Checkpoints, short.MaxTrials = sim.Checkpoints{}, trial+2
			r, err := reference.Run(short)
			if err != nil {
				t.Fatal(err)
			}
			if r.Digest != digest {
				t.Errorf("config %d: checkpoint after trial %d is %s, a run of %d trials ends with %s", i, trial, digest, trial+2, r.Digest)
			}
		}
		for _, d := range allDispatchers {
			got = map[uint64]string{}
			res, err := Run(context.Background(), cfg, Options{Dispatcher: d, Lookahead: 3})
			if err != nil {
				t.Fatalf("config %d, %v: %v", i, d, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || res.Digest != ref.Digest {
				t.Errorf("config %d, %v: checkpoints %v, the reference engine's %v", i, d, got, want)
			}
		}
	}
}

// Checkpoints need sync mode in one process.
func TestCheckpointsRefusedInAsyncMode(t *testing.T) {
	cfg := runcheck.XORConfig(neuromod.Dopamine1, 1)
	cfg.Checkpoints = sim.Checkpoints{Every: 5, Take: func(uint64, uint64, []float64) {}}
	if err := (Options{Mode: Async}).Validate(cfg); err == nil {
		t.Error("async mode with checkpoints accepted")
	}
	cfg.Checkpoints.Take = nil
	if err := cfg.Validate(); err == nil {
		t.Error("checkpoints with nothing to take them accepted")
	}
}
