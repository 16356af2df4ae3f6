package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/environment/sim"
)

// effective is what a chaos command line resolves to, the values a preset
// sets.
type effective struct {
	series                          string
	samples, hidden, window, batch  int
	epochs                          int
	optimizer                       string
	sigma, s0, beta, betaSlow, eta0 float64
}

func resolveChaos(t *testing.T, args ...string) (chaosSetup, effective) {
	t.Helper()
	e := &env{ctx: context.Background(), stdout: io.Discard, stderr: io.Discard}
	s, err := setupChaos(e, args)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	c, m := s.p.cfg, s.p.cfg.Mod
	got := effective{series: s.cf.series, samples: s.fc.Len(), hidden: c.Hidden, window: s.fc.Config().Window,
		batch: s.fc.Config().Batch, epochs: s.cf.epochs, optimizer: s.p.optimizer, eta0: s.p.eta()}
	if c.Method == sim.Perturbation { // a gradient method has no perturbation rule
		got.sigma, got.s0, got.beta, got.betaSlow = c.Sigma, m.S0, m.Beta, m.BetaSlow
	}
	return s, got
}

// A preset sets each of its values; a flag given beside it wins and is left
// out of the line that says what the preset set; s0 follows the σ in effect.
// Resolved only: nothing trains.
func TestPresetResolution(t *testing.T) {
	lorenz := effective{series: "lorenz", samples: 5000, hidden: 512, window: 32, batch: 2968, epochs: 2000,
		optimizer: "dopamine2-literal", sigma: 1e-4, s0: 1e-4, beta: 0.9998, betaSlow: 0.9998, eta0: 0.01}
	rossler := lorenz
	rossler.series, rossler.sigma, rossler.s0 = "rossler", 1e-5, 1e-5
	with := func(e effective, change func(*effective)) effective {
		change(&e)
		return e
	}
	cases := []struct {
		name string
		args []string
		want effective
		line string
	}{
		{"lorenz", []string{"--preset", "paper-lorenz"}, lorenz,
			"preset paper-lorenz: --series lorenz --length 5000 --hidden 512 --window 32 --batch 2968 (full) --epochs 2000 " +
				"--spectral-radius 1 --spectral-every 1 --optimizer dopamine2-literal --sigma 0.0001 --s0 0.0001 --beta 0.9998 --beta-slow 0.9998 --eta 0.01"},
		{"rossler", []string{"--preset", "paper-rossler"}, rossler,
			"preset paper-rossler: --series rossler --length 5000 --hidden 512 --window 32 --batch 2968 (full) --epochs 2000 " +
				"--spectral-radius 1 --spectral-every 1 --optimizer dopamine2-literal --sigma 1e-05 --s0 1e-05 --beta 0.9998 --beta-slow 0.9998 --eta 0.01"},
		{"task flags beside it win", []string{"--hidden", "16", "--preset", "paper-lorenz", "--epochs", "3", "--window", "8", "--length", "4000"},
			with(lorenz, func(e *effective) { e.hidden, e.epochs, e.window, e.samples, e.batch = 16, 3, 8, 4000, 2392 }),
			"preset paper-lorenz: --series lorenz --batch 2392 (full) " +
				"--spectral-radius 1 --spectral-every 1 --optimizer dopamine2-literal --sigma 0.0001 --s0 0.0001 --beta 0.9998 --beta-slow 0.9998 --eta 0.01"},
		{"a number of windows wins over full", []string{"--preset", "paper-lorenz", "--batch", "64"},
			with(lorenz, func(e *effective) { e.batch = 64 }), ""},
		{"s0 follows a given sigma", []string{"--preset", "paper-rossler", "--sigma", "0.001"},
			with(rossler, func(e *effective) { e.sigma, e.s0 = 1e-3, 1e-3 }),
			"preset paper-rossler: --series rossler --length 5000 --hidden 512 --window 32 --batch 2968 (full) --epochs 2000 " +
				"--spectral-radius 1 --spectral-every 1 --optimizer dopamine2-literal --s0 0.001 --beta 0.9998 --beta-slow 0.9998 --eta 0.01"},
		{"rule flags beside it win", []string{"--preset", "paper-lorenz", "--s0", "0.5", "--beta", "0.99", "--beta-slow", "0.9", "--eta", "0.1"},
			with(lorenz, func(e *effective) { e.s0, e.beta, e.betaSlow, e.eta0 = 0.5, 0.99, 0.9, 0.1 }), ""},
		{"another optimizer: only the task values", []string{"--preset", "paper-lorenz", "--optimizer", "adam"},
			with(lorenz, func(e *effective) {
				e.optimizer, e.sigma, e.s0, e.beta, e.betaSlow, e.eta0 = "adam", 0, 0, 0, 0, chaosEta["adam"]
			}),
			"preset paper-lorenz: --series lorenz --length 5000 --hidden 512 --window 32 --batch 2968 (full) --epochs 2000" +
				"; its dopamine2-literal rule values not applied (--optimizer adam given)"},
		{"a file series keeps its length", []string{"--preset", "paper-lorenz", "--series", "file:" + mgPublic},
			with(lorenz, func(e *effective) { e.series, e.samples, e.batch = "file:"+mgPublic, 10000, 5968 }),
			"preset paper-lorenz: --hidden 512 --window 32 --batch 5968 (full) --epochs 2000 " +
				"--spectral-radius 1 --spectral-every 1 --optimizer dopamine2-literal --sigma 0.0001 --s0 0.0001 --beta 0.9998 --beta-slow 0.9998 --eta 0.01"},
	}
	for _, c := range cases {
		s, got := resolveChaos(t, c.args...)
		if got != c.want {
			t.Errorf("%s: resolved to\n%+v, want\n%+v", c.name, got, c.want)
		}
		if line := s.preset.line(got.batch); c.line != "" && line != c.line {
			t.Errorf("%s: line\n%s\nwant\n%s", c.name, line, c.line)
		}
		for _, fv := range s.preset.applied {
			for _, a := range c.args {
				if a == "--"+fv.name {
					t.Errorf("%s: the preset set --%s, given beside it", c.name, fv.name)
				}
			}
		}
	}
}

// A preset run (one trial of a 2-neuron network, so that it takes well under
// a second) prints exactly its line on stderr, and the JSON names the preset
// and carries its values as the configuration in effect.
func TestPresetRunJSON(t *testing.T) {
	code, out, errs := dopasim(t, "chaos", "--preset", "paper-rossler", "--hidden", "2", "--epochs", "1", "--engine", "reference", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "dopasim: preset paper-rossler: --series rossler --length 5000 --window 32 --batch 2968 (full) " +
		"--spectral-radius 1 --spectral-every 1 --optimizer dopamine2-literal --sigma 1e-05 --s0 1e-05 --beta 0.9998 --beta-slow 0.9998 --eta 0.01" + "\n"
	if errs != want {
		t.Errorf("stderr\n%q, want\n%q", errs, want)
	}
	m := jsonObject(t, out)
	if m["preset"] != "paper-rossler" || m["batch"] != 2968.0 || m["window"] != 32.0 || m["hidden"] != 2.0 || m["epochs"] != 1.0 {
		t.Errorf("preset %v batch %v window %v hidden %v epochs %v", m["preset"], m["batch"], m["window"], m["hidden"], m["epochs"])
	}
	cfg := m["config"].(map[string]any)
	pert := cfg["perturbation"].(map[string]any)
	if cfg["optimizer"] != "dopamine2-literal" || pert["sigma"] != 1e-5 || pert["s0"] != 1e-5 || pert["beta"] != 0.9998 ||
		pert["beta_slow"] != 0.9998 || pert["eta"] != 0.01 || cfg["max_trials"] != 1.0 {
		t.Errorf("config: optimizer %v, perturbation %v, max_trials %v", cfg["optimizer"], pert, cfg["max_trials"])
	}
	fc := cfg["forecast"].(map[string]any)
	if fc["series"] != "rossler" || fc["samples"] != 5000.0 || fc["window"] != 32.0 || fc["batch"] != 2968.0 || fc["trials_per_epoch"] != 1.0 {
		t.Errorf("config.forecast %v", fc)
	}
	if sp, _ := fc["spectral"].(map[string]any); sp == nil || sp["radius"] != 1.0 || sp["every"] != 1.0 || sp["steps"] != 2.0 {
		t.Errorf("config.forecast.spectral %v, want radius 1 every trial, min(hidden 2, 20) products", fc["spectral"])
	}
	pc := cfg["preset"].(map[string]any)
	applied := pc["applied"].(map[string]any)
	if pc["name"] != "paper-rossler" || applied["batch"] != "full" || applied["sigma"] != "1e-05" || applied["hidden"] != nil ||
		applied["spectral-radius"] != "1" {
		t.Errorf("config.preset %v", pc)
	}
}

func TestPresetHelp(t *testing.T) {
	code, out, _ := dopasim(t, "chaos", "-h")
	for _, want := range []string{"  -preset NAME", "paper-lorenz: --series lorenz", "paper-rossler: --series rossler --length 5000",
		"--sigma 1e-05 --s0 σ", "--spectral-radius 1 --spectral-every 1", "unless it is a gradient one", "  -batch N", "  -spectral-radius R"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("chaos -h (exit %d) lacks %q", code, want)
		}
	}
}
