package msglog

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteText writes the summary for people: one block per run.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	for i, rs := range s.Runs {
		if i > 0 {
			b.WriteByte('\n')
		}
		rs.writeText(&b)
	}
	fmt.Fprintf(&b, "total: %s, %s, %d malformed", plural(len(s.Runs), "run"), plural(s.Lines, "line"), s.Malformed)
	if len(s.MalformedLines) > 0 {
		fmt.Fprintf(&b, " (line %s", joinInts(s.MalformedLines))
		if s.Malformed > len(s.MalformedLines) {
			b.WriteString(", …")
		}
		b.WriteString(")")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ", ")
}

func (rs *RunSummary) writeText(b *strings.Builder) {
	fmt.Fprintf(b, "run %s (lines %d-%d)\n", rs.Run, rs.FirstLine, rs.LastLine)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	if rs.Header {
		var cfg []string
		for _, kv := range [][2]string{{"task", rs.Task}, {"arch", rs.Arch}, {"optimizer", rs.Optimizer}} {
			if kv[1] != "" {
				cfg = append(cfg, kv[0]+" "+kv[1])
			}
		}
		if rs.Seed != nil {
			cfg = append(cfg, fmt.Sprintf("seed %d", *rs.Seed))
		}
		fmt.Fprintf(tw, "  level\t%s (schema %d)\n", orNone(rs.Level), rs.Schema)
		if len(cfg) > 0 {
			fmt.Fprintf(tw, "  config\t%s\n", strings.Join(cfg, ", "))
		}
	} else {
		fmt.Fprintf(tw, "  level\tunknown (no run record: the log starts inside the run)\n")
	}
	var kinds []string
	for _, k := range Kinds() {
		if n := rs.Kinds[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
	}
	fmt.Fprintf(tw, "  records\t%d: %s\n", rs.Records, strings.Join(kinds, ", "))
	if rs.FirstTrial != nil {
		fmt.Fprintf(tw, "  trials\t%d..%d (%s)\n", *rs.FirstTrial, *rs.LastTrial, plural(rs.Trials, "trial record"))
	} else {
		fmt.Fprintf(tw, "  trials\tnone\n")
	}
	if rs.FirstLoss != nil {
		fmt.Fprintf(tw, "  loss\tfirst %s, last %s (%s records)\n", floatText(*rs.FirstLoss), floatText(*rs.LastLoss), rs.LossFrom)
	}
	if e := rs.End; e != nil {
		fmt.Fprintf(tw, "  end\t%s", e.How)
		if e.Trials != nil {
			fmt.Fprintf(tw, ", %s run", plural(int(*e.Trials), "trial"))
		}
		if e.Updates != nil {
			fmt.Fprintf(tw, ", %s", plural(int(*e.Updates), "update"))
		}
		if e.Loss != nil {
			fmt.Fprintf(tw, ", loss %s", floatText(*e.Loss))
		}
		if e.Digest != "" {
			fmt.Fprintf(tw, ", digest %s", e.Digest)
		}
		if e.Reason != "" {
			fmt.Fprintf(tw, " (%s)", e.Reason)
		}
		fmt.Fprintln(tw)
	} else {
		fmt.Fprintf(tw, "  end\tno end record (log cut short)\n")
	}
	fmt.Fprintf(tw, "  dead letters\t%d\n", rs.DeadLetters)
	fmt.Fprintf(tw, "  dropped\t%d\n", rs.Dropped)
	fmt.Fprintf(tw, "  malformed\t%s\n", plural(rs.Malformed, "line"))
	tw.Flush()
	rs.writeActors(b)
}

// maxActorRows is how many actors the text lists one by one; past it the
// neurons are grouped by layer.
const maxActorRows = 20

// writeActors writes the sent and received counts per actor (neurons grouped
// by layer when there are many).
func (rs *RunSummary) writeActors(b *strings.Builder) {
	type row struct {
		name                   string
		actors                 int
		sent, received, events int
	}
	names := map[string]bool{}
	for a := range rs.Sent {
		names[a] = true
	}
	for a := range rs.Received {
		names[a] = true
	}
	for a := range rs.Events {
		names[a] = true
	}
	if len(names) == 0 {
		return
	}
	group := len(names) > maxActorRows
	rows := map[string]*row{}
	for a := range names {
		key := a
		if group {
			if layer, ok := neuronLayer(a); ok {
				key = "neuron/" + layer + "/*"
			}
		}
		r := rows[key]
		if r == nil {
			r = &row{name: key}
			rows[key] = r
		}
		r.actors++
		r.sent += rs.Sent[a]
		r.received += rs.Received[a]
		r.events += rs.Events[a]
	}
	list := make([]*row, 0, len(rows))
	for _, r := range rows {
		list = append(list, r)
	}
	slices.SortFunc(list, func(x, y *row) int { return compareActors(x.name, y.name) })
	width := len("actor")
	for _, r := range list {
		if r.actors > 1 {
			r.name = fmt.Sprintf("%s (%d actors)", r.name, r.actors)
		}
		width = max(width, len(r.name))
	}
	fmt.Fprintf(b, "  %-*s  %8s  %8s  %8s\n", width, "actor", "sent", "received", "events")
	for _, r := range list {
		fmt.Fprintf(b, "  %-*s  %8d  %8d  %8d\n", width, r.name, r.sent, r.received, r.events)
	}
}

// neuronLayer returns the layer of a neuron name "neuron/<layer>/<NNN>".
func neuronLayer(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "neuron/")
	if !ok {
		return "", false
	}
	layer, _, ok := strings.Cut(rest, "/")
	return layer, ok
}

// actorClass orders actors: env, neurons, others, dopamine.
func actorClass(name string) int {
	switch {
	case name == "env":
		return 0
	case strings.HasPrefix(name, "neuron/"):
		return 1
	case name == "dopamine":
		return 3
	}
	return 2
}

// compareActors orders actor names by class, then by name.
func compareActors(a, b string) int {
	if c := actorClass(a) - actorClass(b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// plural returns "1 word" or "n words".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// floatText writes f as the log does (NaN, +Inf, -Inf without quotes).
func floatText(f Float) string {
	b := AppendFloat(nil, float64(f))
	return strings.Trim(string(b), `"`)
}
