package msglog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"
)

// logGen writes a synthetic level-all log the way the actors do (zap's JSON
// encoder: floats in shortest 'f' form), alternating runs of an XOR network
// (4 hidden neurons, records of about 200 bytes) and of a recurrent
// forecasting network (16 neurons, activations of 2 tracks × 256 windows,
// about 10 KB each).
type logGen struct {
	w   *bufio.Writer
	rng *rand.Rand
	b   []byte
	n   int64 // bytes written
}

func (g *logGen) f(v float64) { g.b = strconv.AppendFloat(g.b, v, 'f', -1, 64) }
func (g *logGen) i(v int)     { g.b = strconv.AppendInt(g.b, int64(v), 10) }
func (g *logGen) s(v string)  { g.b = append(g.b, '"'); g.b = append(g.b, v...); g.b = append(g.b, '"') }
func (g *logGen) raw(v string) {
	g.b = append(g.b, v...)
}

// start begins a record with its kind and run.
func (g *logGen) start(kind, run string) {
	g.b = g.b[:0]
	g.raw(`{"kind":`)
	g.s(kind)
	g.raw(`,"run":`)
	g.s(run)
}

func (g *logGen) end() {
	g.raw("}\n")
	g.w.Write(g.b)
	g.n += int64(len(g.b))
}

// msg begins a message record.
func (g *logGen) msg(kind, run string, trial int, from, to string, seq int) {
	g.start(kind, run)
	g.raw(`,"trial":`)
	g.i(trial)
	g.raw(`,"from":`)
	g.s(from)
	g.raw(`,"to":`)
	g.s(to)
	g.raw(`,"seq":`)
	g.i(seq)
}

func (g *logGen) floats(key string, n int) {
	g.raw(`,"` + key + `":[`)
	for k := 0; k < n; k++ {
		if k > 0 {
			g.raw(",")
		}
		g.f(g.rng.Float64())
	}
	g.raw("]")
}

// run writes one run of hidden neurons with window-sized activations, until
// the log holds size bytes or trials trials are written.
func (g *logGen) run(name string, hidden, window, trials int, size int64) {
	g.start(KindRun, name)
	g.raw(`,"schema":1,"level":"all","task":"xor","arch":"mlp","seed":1,"optimizer":"dopamine1","sigma":0.001,"norm":"inv-sigma2","two_sided":false,"neurons":`)
	g.i(hidden + 1)
	g.end()
	net := g.neurons(name, hidden)
	seq := map[string]int{}
	next := func(a string) int { s := seq[a]; seq[a]++; return s }
	for t := 0; t < trials && g.n < size; t++ {
		g.trial(name, t, window, net, next)
	}
	g.start(KindEnd, name)
	g.raw(`,"how":"capped","trials":`)
	g.i(trials)
	g.raw(`,"loss":0.1,"digest":"ab12cd","reason":""`)
	g.end()
}

// benchNet is the generated run's network: its neurons (the hidden ones,
// then the output), each one's inputs and weights.
type benchNet struct {
	neurons []string
	inputs  [][]string
	w       [][]float64
}

// neurons writes the neuron records of an XOR network of hidden neurons.
func (g *logGen) neurons(name string, hidden int) *benchNet {
	neurons := make([]string, hidden+1)
	inputs := make([][]string, hidden+1)
	for k := range neurons {
		neurons[k] = fmt.Sprintf("neuron/h/%03d", k)
		inputs[k] = []string{InputName(0), InputName(1), Bias}
	}
	neurons[hidden] = "neuron/o/000"
	inputs[hidden] = append(append([]string(nil), neurons[:hidden]...), Bias)
	w := make([][]float64, len(neurons))
	for k, n := range neurons {
		w[k] = make([]float64, len(inputs[k]))
		g.start(KindNeuron, name)
		g.raw(`,"name":`)
		g.s(n)
		g.raw(`,"layer":"h","inputs":[`)
		for j, in := range inputs[k] {
			if j > 0 {
				g.raw(",")
			}
			g.s(in)
			w[k][j] = g.rng.NormFloat64()
		}
		g.raw(`],"w":[`)
		for j, v := range w[k] {
			if j > 0 {
				g.raw(",")
			}
			g.f(v)
		}
		g.raw("]")
		g.end()
	}
	return &benchNet{neurons, inputs, w}
}

// trial writes one trial's messages, its outcome and its weight changes.
func (g *logGen) trial(name string, t, window int, net *benchNet, next func(actor string) int) {
	neurons, hidden := net.neurons, len(net.neurons)-1
	for _, n := range neurons[:hidden] {
		g.msg(KindStimulus, name, t, "env", n, next("env"))
		g.floats("x", 8)
		g.end()
	}
	for _, n := range neurons[:hidden] {
		g.msg(KindActivation, name, t, n, neurons[hidden], next(n))
		g.raw(`,"step":0,"slot":0`)
		g.floats("vals", 2*window)
		g.end()
	}
	g.msg(KindActivation, name, t, neurons[hidden], "env", next(neurons[hidden]))
	g.raw(`,"step":0,"slot":0`)
	g.floats("vals", 2*window)
	g.end()
	loss := g.rng.Float64()
	delta := 1e-4 * g.rng.NormFloat64()
	g.msg(KindScored, name, t, "env", "dopamine", next("env"))
	g.raw(`,"loss":`)
	g.f(loss)
	g.raw(`,"loss_plus":`)
	g.f(loss + delta)
	g.raw(`,"end":"running"`)
	g.end()
	g.start(KindTrial, name)
	g.raw(`,"trial":`)
	g.i(t)
	g.raw(`,"from":"dopamine","loss":`)
	g.f(loss)
	g.raw(`,"loss_plus":`)
	g.f(loss + delta)
	g.raw(`,"delta":`)
	g.f(delta)
	g.raw(`,"eta":0.4,"end":"running"`)
	g.end()
	for _, n := range neurons {
		g.msg(KindDopamine, name, t, "dopamine", n, next("dopamine"))
		g.raw(`,"delta":`)
		g.f(delta)
		g.raw(`,"eta":0.4`)
		g.end()
	}
	g.weights(name, t, delta, net)
}

// weights writes trial t's weight changes, the signal δ with η = 0.4.
func (g *logGen) weights(name string, t int, delta float64, net *benchNet) {
	neurons, inputs, w := net.neurons, net.inputs, net.w
	for k, n := range neurons {
		for j, in := range inputs[k] {
			xi := 1e-3 * g.rng.NormFloat64()
			dw := -0.4 * delta * xi / 1e-6
			g.start(KindWeight, name)
			g.raw(`,"trial":`)
			g.i(t)
			g.raw(`,"from":`)
			g.s(n)
			g.raw(`,"synapse":`)
			g.s(SynapseName(in, n))
			g.raw(`,"index":`)
			g.i(j)
			g.raw(`,"w":`)
			g.f(w[k][j])
			g.raw(`,"xi":`)
			g.f(xi)
			g.raw(`,"delta":`)
			g.f(delta)
			g.raw(`,"eta":0.4,"dw":`)
			g.f(dw)
			g.raw(`,"w_new":`)
			w[k][j] += dw
			g.f(w[k][j])
			g.end()
		}
	}
}

// writeBenchLog writes a log of about size bytes to path.
func writeBenchLog(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := genBenchLog(f, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// genBenchLog writes a log of about size bytes to w.
func genBenchLog(w io.Writer, size int64) error {
	g := &logGen{w: bufio.NewWriterSize(w, 1<<20), rng: rand.New(rand.NewPCG(1, 2))}
	for k := 0; g.n < size; k++ {
		if k%2 == 0 {
			g.run(fmt.Sprintf("seed-%d", k+1), 4, 4, 4_000, size) // about 30 MiB
		} else {
			g.run(fmt.Sprintf("seed-%d", k+1), 16, 256, 200, size) // about 35 MiB
		}
	}
	return g.w.Flush()
}

// heapReader samples the bytes of live and unswept heap objects at each
// read (every 64 KiB of the log), keeping the largest.
type heapReader struct {
	r      io.Reader
	sample []metrics.Sample
	peak   uint64
}

func newHeapReader(r io.Reader) *heapReader {
	h := &heapReader{r: r, sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
	h.measure()
	return h
}

func (h *heapReader) measure() {
	metrics.Read(h.sample)
	h.peak = max(h.peak, h.sample[0].Value.Uint64())
}

func (h *heapReader) Read(p []byte) (int, error) {
	h.measure()
	return h.r.Read(p)
}

// BenchmarkSummarize runs Summarize over a 64 MiB log and one of
// $DOPASIM_LOG_BENCH_BYTES (default 1 GiB), generated once in a temporary
// directory, and reports the read speed and the peak heap of each: flat
// memory shows as the same peak for both sizes.
func BenchmarkSummarize(b *testing.B) {
	big := int64(1 << 30)
	if s := os.Getenv("DOPASIM_LOG_BENCH_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("DOPASIM_LOG_BENCH_BYTES=%q: want a positive number of bytes", s)
		}
		big = n
	}
	dir := b.TempDir()
	for _, size := range []int64{64 << 20, big} {
		path := filepath.Join(dir, fmt.Sprintf("log-%d.jsonl", size))
		var actual int64
		b.Run(sizeName(size), func(b *testing.B) {
			if actual == 0 {
				if err := writeBenchLog(path, size); err != nil {
					b.Fatal(err)
				}
				st, err := os.Stat(path)
				if err != nil {
					b.Fatal(err)
				}
				actual = st.Size()
			}
			b.SetBytes(actual)
			var peak uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				h := newHeapReader(f)
				s, err := Summarize(NewReader(h))
				f.Close()
				if err != nil || s.Malformed != 0 || len(s.Runs) == 0 {
					b.Fatalf("summary: %v", err)
				}
				h.measure()
				peak = max(peak, h.peak)
			}
			b.ReportMetric(float64(peak), "peak-heap-bytes")
		})
	}
}

func sizeName(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dB", n)
}

// decodeCase is one way of decoding a whole log: pass decodes every record
// of data and returns how many it decoded and the total length of their
// kinds (so that nothing is optimised away).
type decodeCase struct {
	name string
	pass func(b *testing.B, data []byte) (records, kindBytes int)
}

// decodeCases are BenchmarkDecode's cases, the reader first; the jsonv2
// experiment's cases are added by bench_jsonv2_test.go.
var decodeCases = []decodeCase{
	{"reader", readerPass},
	{"encoding-json-map", jsonMapPass},
	{"encoding-json-raw", jsonRawPass},
}

// readerPass reads every record with a Reader, as Summarize does.
func readerPass(b *testing.B, data []byte) (records, kindBytes int) {
	r := NewReader(bytes.NewReader(data))
	for {
		rec, err := r.NextValid()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		records++
		kindBytes += len(rec.Kind)
	}
	if r.Skipped() != 0 {
		b.Fatalf("reader skipped %d lines", r.Skipped())
	}
	return records, kindBytes
}

// eachLine calls f with every line of data, without its newline.
func eachLine(data []byte, f func(line []byte)) {
	for len(data) > 0 {
		n := bytes.IndexByte(data, '\n')
		if n < 0 {
			f(data)
			return
		}
		f(data[:n])
		data = data[n+1:]
	}
}

// jsonMapPass decodes each line with encoding/json into a map[string]any
// (one map, cleared and reused).
func jsonMapPass(b *testing.B, data []byte) (records, kindBytes int) {
	m := map[string]any{}
	eachLine(data, func(line []byte) {
		clear(m)
		if err := json.Unmarshal(line, &m); err != nil {
			b.Fatal(err)
		}
		k, _ := m["kind"].(string)
		records++
		kindBytes += len(k)
	})
	return records, kindBytes
}

// jsonRawPass decodes each line with encoding/json into a
// map[string]json.RawMessage, the cheapest of its forms that still splits
// the fields (one map, cleared and reused); the kind is read as the reader
// reads it, unquoted.
func jsonRawPass(b *testing.B, data []byte) (records, kindBytes int) {
	m := map[string]json.RawMessage{}
	eachLine(data, func(line []byte) {
		clear(m)
		if err := json.Unmarshal(line, &m); err != nil {
			b.Fatal(err)
		}
		records++
		kindBytes += len(unquote(m["kind"]))
	})
	return records, kindBytes
}

// BenchmarkDecode reads the same 64 MiB log, generated once in memory, with
// the Reader (msglog's own scanner) and with each other decoder of
// decodeCases, and reports each one's MB/s. Every iteration of a case other
// than the reader also times one pass of the reader just before its own
// (outside the case's timer, after a collection, as is the case's pass) and
// reports the ratio of the two times, vs-reader: how many times slower than
// the reader the case is, measured under the same noise.
//
//	go test ./actors/msglog -run XXX -bench Decode -benchtime 3x -count 3
func BenchmarkDecode(b *testing.B) {
	var buf bytes.Buffer
	if err := genBenchLog(&buf, 64<<20); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	want, wantKinds := readerPass(b, data)
	for _, c := range decodeCases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var own, ref time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if c.name != "reader" {
					runtime.GC()
					t := time.Now()
					readerPass(b, data)
					ref += time.Since(t)
				}
				runtime.GC()
				b.StartTimer()
				t := time.Now()
				n, kinds := c.pass(b, data)
				own += time.Since(t)
				if n != want || kinds != wantKinds {
					b.Fatalf("%d records, %d bytes of kinds; the reader read %d, %d", n, kinds, want, wantKinds)
				}
			}
			if ref > 0 {
				b.ReportMetric(float64(own)/float64(ref), "vs-reader")
			}
		})
	}
}
