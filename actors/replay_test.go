package actors

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/actors/msglog"
	"github.com/dopasim/dopasim/neuromod"
)

// replayForward recomputes, from a level-all log alone, the clean output of
// every activation an XOR neuron sent, as docs/message-log.md says to: the
// weights in effect for trial t are the initial ones with every change whose
// next_trial (trial + 1 in a sync run) is at most t applied, in the order
// the neuron applied them (update_seq in an async run, the log's in a sync
// one);
// the net input is summed from +0 in input order, each product rounded, the
// bias added last, and y = 1/(1 + e^−z). It returns how many activations it
// checked.
func replayForward(t *testing.T, log []byte) int {
	t.Helper()
	type change struct {
		next, seq uint64 // seq: update_seq, the order the neuron applied its changes (async)
		index     int
		w         float64
	}
	initial := map[string][]float64{}
	inputs := map[string][]string{}
	changes := map[string][]change{}
	stimulus := map[uint64][]float64{}          // trial → x [pattern][input]
	hidden := map[uint64]map[string][]float64{} // trial → neuron → clean outputs
	var sent []map[string]any                   // activations, in log order
	recs := records(t, log)
	for _, r := range recs {
		switch r["kind"] {
		case msglog.KindNeuron:
			name := r["name"].(string)
			initial[name] = floatsOf(t, r["w"])
			for _, in := range r["inputs"].([]any) {
				inputs[name] = append(inputs[name], in.(string))
			}
		case msglog.KindWeight:
			next := uint64(num(t, r["trial"])) + 1
			if v, ok := r["next_trial"]; ok {
				next = uint64(num(t, v))
			}
			var seq uint64
			if v, ok := r["update_seq"]; ok {
				seq = uint64(num(t, v))
			}
			from := r["from"].(string)
			changes[from] = append(changes[from], change{next, seq, int(num(t, r["index"])), num(t, r["w_new"])})
		case msglog.KindStimulus:
			if r["dropped"] != true {
				stimulus[uint64(num(t, r["trial"]))] = floatsOf(t, r["x"])
			}
		case msglog.KindActivation:
			if r["dropped"] != true && r["lost"] != true {
				sent = append(sent, r)
				trial := uint64(num(t, r["trial"]))
				if hidden[trial] == nil {
					hidden[trial] = map[string][]float64{}
				}
				hidden[trial][r["from"].(string)] = floatsOf(t, r["vals"])
			}
		}
	}
	for _, cs := range changes {
		slices.SortStableFunc(cs, func(a, b change) int { return cmp.Compare(a.seq, b.seq) })
	}
	const patterns = 4
	checked := 0
	for _, r := range sent {
		from, trial := r["from"].(string), uint64(num(t, r["trial"]))
		w := append([]float64(nil), initial[from]...)
		for _, c := range changes[from] {
			if c.next <= trial {
				w[c.index] = c.w
			}
		}
		got := floatsOf(t, r["vals"])
		for p := 0; p < patterns; p++ {
			z := 0.0
			for j, src := range inputs[from] {
				var x float64
				switch {
				case src == "bias":
					continue
				case strings.HasPrefix(src, "in/"):
					x = stimulus[trial][p*2+int(src[3]-'0')]
				default:
					x = hidden[trial][src][p] // the clean track
				}
				z += float64(w[j] * x)
			}
			z += w[len(w)-1]
			if y := 1 / (1 + math.Exp(-z)); math.Float64bits(y) != math.Float64bits(got[p]) {
				t.Fatalf("%s trial %d pattern %d: the log's weights give %v, it sent %v", from, trial, p, y, got[p])
			}
		}
		checked++
	}
	return checked
}

// The log says which weights every forward pass used, in both modes: in an
// async run a neuron's changes are written when they happen, which can be
// before records of trials it computed with the older weights, and each
// change's next_trial says from which trial on it holds.
func TestLogSaysWhichWeightsEachTrialUsed(t *testing.T) {
	jitter, _ := ParseDelay("exp:1")
	delay, _ := ParseDelay("uniform:0..3")
	wallDelay, _ := ParseDelay("uniform:0..200us")
	for _, c := range []struct {
		name string
		opt  Options
	}{
		{"sync", Options{}},
		{"async", Options{Mode: Async, Async: AsyncOptions{DopamineDelay: delay, Jitter: jitter, DropDopamine: 0.2}}},
		{"async, one update in 2", Options{Mode: Async, Async: AsyncOptions{DopamineDelay: delay, UpdateEvery: 2}}},
		{"async, reordered activations", Options{Mode: Async, Async: AsyncOptions{DopamineDelay: delay, Jitter: jitter, ActivationDelay: wallDelay}}},
	} {
		cfg := xorConfig(neuromod.Dopamine1, 9)
		cfg.MaxTrials = 120
		_, log := logRun(t, cfg, c.opt, msglog.All)
		if c.opt.Mode == Async && !strings.Contains(string(log), `"next_trial"`) {
			t.Errorf("%s: no next_trial in the weight records", c.name)
		}
		if n := replayForward(t, log); n < int(cfg.MaxTrials)*(cfg.Hidden+1)/2 {
			t.Errorf("%s: only %d activations checked", c.name, n)
		}
	}
}
