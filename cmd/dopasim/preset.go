package main

import (
	"cmp"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/dopasim/dopasim/environment/sim"
)

// A preset is a named set of chaos flag values: a published setting. Every
// flag given beside --preset wins over the preset's value for it.
type preset struct {
	name string
	// task sets the series, the network and the length of training; rule
	// sets the learning rule, its first value being the --optimizer. The
	// rule values are that optimizer's, so they are applied only when no
	// other --optimizer is given. An empty s0 is the σ in effect (the
	// preset's, or a --sigma given beside it).
	task, rule []flagValue
	// perturbation sets what applies to the perturbation optimizers only
	// (the spectral-radius reset): left out with a gradient --optimizer.
	perturbation []flagValue
}

// flagValue is one flag and its value, as on a command line.
type flagValue struct{ name, value string }

// presets are the source paper's settings (arXiv 2510.22178): 512 hidden
// units, windows of 32 values, 5 000 samples, full batch, 2 000 epochs, and
// the learning rule that a third-party reading of its supplement attributes
// to it (dopamine2-literal: β_s = β_η = 0.9998, s0 = σ, η0 = 1e-2), with σ
// 1e-4 for Lorenz and 1e-5 for Rössler, and the reset of the recurrent
// weights to spectral radius 1.0 after every step (trial).
var presets = []preset{paperPreset("lorenz", "0.0001"), paperPreset("rossler", "1e-05")}

func paperPreset(series, sigma string) preset {
	return preset{
		name: "paper-" + series,
		task: []flagValue{{"series", series}, {"length", "5000"}, {"hidden", "512"}, {"window", "32"},
			{"batch", "full"}, {"epochs", "2000"}},
		rule: []flagValue{{"optimizer", "dopamine2-literal"}, {"sigma", sigma}, {"s0", ""},
			{"beta", "0.9998"}, {"beta-slow", "0.9998"}, {"eta", "0.01"}},
		perturbation: []flagValue{{"spectral-radius", "1"}, {"spectral-every", "1"}},
	}
}

// presetHelp is the --preset line of "dopasim chaos -h", from the table.
func presetHelp() string {
	var b strings.Builder
	b.WriteString("`NAME`: the source paper's setting (arXiv 2510.22178) for a series, one of:")
	for _, p := range presets {
		var parts []string
		for _, fv := range slices.Concat(p.task, p.perturbation, p.rule) {
			parts = append(parts, "--"+fv.name+" "+cmp.Or(fv.value, "σ"))
		}
		fmt.Fprintf(&b, "\n%s: %s", p.name, strings.Join(parts, " "))
	}
	b.WriteString("\n(--batch full: every training window of the split, one trial per epoch.) " +
		"Every flag given beside it wins; --s0 follows a given --sigma, and with another --optimizer only the series, " +
		"network and training values apply (and the spectral-radius reset, unless it is a gradient one). It prints what it set on stderr.")
	return b.String()
}

// appliedPreset is what --preset did: the flags it set, in order, with the
// value each now holds, and the --optimizer given instead of its own ("" if
// none: then its rule values were not applied).
type appliedPreset struct {
	preset  preset
	applied []flagValue
	other   string
}

// applyPreset sets every flag of the --preset named in cf that the command
// line did not give, and records it as given: the values are then checked
// by, and used in, the same code as typed flags. An unknown name is a usage
// error.
// sets reports whether the preset (nil: none) set the flag.
func (a *appliedPreset) sets(flag string) bool {
	if a == nil {
		return false
	}
	for _, fv := range a.applied {
		if fv.name == flag {
			return true
		}
	}
	return false
}

func applyPreset(fs *flag.FlagSet, f *runFlags, cf *chaosFlags) (*appliedPreset, error) {
	i := slices.IndexFunc(presets, func(p preset) bool { return p.name == cf.preset })
	if i < 0 {
		var names []string
		for _, p := range presets {
			names = append(names, p.name)
		}
		return nil, usagef("--preset: unknown preset %q (want %s)", cf.preset, strings.Join(names, " or "))
	}
	a := &appliedPreset{preset: presets[i]}
	set := func(fv flagValue) error {
		if f.set[fv.name] {
			return nil
		}
		if err := fs.Set(fv.name, fv.value); err != nil {
			return fmt.Errorf("preset %s: --%s %s: %v", a.preset.name, fv.name, fv.value, err)
		}
		f.set[fv.name] = true
		a.applied = append(a.applied, flagValue{fv.name, fs.Lookup(fv.name).Value.String()})
		return nil
	}
	for _, fv := range a.preset.task {
		if fv.name == "length" && strings.HasPrefix(cf.series, "file:") {
			continue // a file's series has its own length
		}
		if err := set(fv); err != nil {
			return nil, err
		}
	}
	if method, _, err := parseOptimizer(f.optimizer); err != nil || method == sim.Perturbation {
		for _, fv := range a.preset.perturbation {
			if err := set(fv); err != nil {
				return nil, err
			}
		}
	}
	if opt := a.preset.rule[0].value; f.set["optimizer"] && f.optimizer != opt {
		a.other = f.optimizer
		return a, nil
	}
	for _, fv := range a.preset.rule {
		if fv.name == "s0" && fv.value == "" {
			fv.value = fs.Lookup("sigma").Value.String()
		}
		if err := set(fv); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// line is the stderr line that says what the preset set; batch is the
// number of windows per trial, which --batch full came to.
func (a *appliedPreset) line(batch int) string {
	var parts []string
	for _, fv := range a.applied {
		v := fv.value
		if fv.name == "batch" && v == "full" {
			v = fmt.Sprintf("%d (full)", batch)
		}
		parts = append(parts, "--"+fv.name+" "+v)
	}
	set := strings.Join(parts, " ")
	if len(parts) == 0 {
		set = "nothing (every value given)"
	}
	s := "preset " + a.preset.name + ": " + set
	if a.other != "" {
		s += fmt.Sprintf("; its %s rule values not applied (--optimizer %s given)", a.preset.rule[0].value, a.other)
	}
	return s
}

// presetConfig is a preset in a run's JSON configuration; the values in
// effect are in the rest of the configuration.
type presetConfig struct {
	Name    string            `json:"name"`
	Applied map[string]string `json:"applied"` // flag → value, for the flags it set (not those given beside it)
}

func (a *appliedPreset) config() *presetConfig {
	c := &presetConfig{Name: a.preset.name, Applied: map[string]string{}}
	for _, fv := range a.applied {
		c.Applied[fv.name] = fv.value
	}
	return c
}
