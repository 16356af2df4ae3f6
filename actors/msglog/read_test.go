package msglog

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// readAll reads every line of the log, returning the records' envelopes and
// the line errors.
func readAll(t *testing.T, r *Reader) (recs []Record, bad []*LineError) {
	t.Helper()
	for {
		rec, err := r.Next()
		var le *LineError
		switch {
		case errors.As(err, &le):
			bad = append(bad, le)
			continue
		case err == io.EOF:
			return recs, bad
		case err != nil:
			t.Fatal(err)
		}
		c := *rec
		c.Raw = append([]byte(nil), rec.Raw...)
		c.fields = append([]field(nil), rec.fields...)
		recs = append(recs, c)
	}
}

func openTestdata(t *testing.T, name string) *Reader {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r := NewReader(f)
	r.Name = name
	return r
}

// jsonLines decodes every line of a test file with encoding/json, the
// reference the reader is checked against.
func jsonLines(t *testing.T, name string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, m)
	}
	return out
}

// The envelope the reader decodes is what encoding/json reads from each line.
func TestReadMatchesEncodingJSON(t *testing.T) {
	for _, name := range []string{"xor.jsonl", "trials.jsonl", "two-runs.jsonl"} {
		recs, bad := readAll(t, openTestdata(t, name))
		want := jsonLines(t, name)
		if len(bad) > 0 || len(recs) != len(want) {
			t.Fatalf("%s: %d records, %v malformed; want %d records", name, len(recs), bad, len(want))
		}
		for i, rec := range recs {
			m := want[i]
			str := func(k string) string { s, _ := m[k].(string); return s }
			if rec.Line != i+1 || rec.Kind != str("kind") || rec.Run != str("run") || rec.From != str("from") || rec.To != str("to") {
				t.Errorf("%s:%d: envelope %d %q %q %q %q, want %v", name, i+1, rec.Line, rec.Kind, rec.Run, rec.From, rec.To, m)
			}
			trial, hasTrial := m["trial"].(float64)
			if rec.HasTrial != hasTrial || rec.Trial != uint64(trial) {
				t.Errorf("%s:%d: trial %d (%v), want %v", name, i+1, rec.Trial, rec.HasTrial, m["trial"])
			}
			seq, hasSeq := m["seq"].(float64)
			if rec.HasSeq != hasSeq || rec.Seq != uint64(seq) {
				t.Errorf("%s:%d: seq %d (%v), want %v", name, i+1, rec.Seq, rec.HasSeq, m["seq"])
			}
			if rec.NumFields() != len(m) {
				t.Errorf("%s:%d: %d fields, want %d", name, i+1, rec.NumFields(), len(m))
			}
			for k, v := range rec.Fields() {
				var got any
				if err := json.Unmarshal(v, &got); err != nil {
					t.Fatalf("%s:%d: field %s: %v", name, i+1, k, err)
				}
				if w, _ := json.Marshal(m[k]); string(w) != string(mustMarshal(t, got)) {
					t.Errorf("%s:%d: field %s = %s, want %s", name, i+1, k, v, w)
				}
			}
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A blank line, a line that is not JSON, an unknown kind and a truncated last
// line are each reported with their line number, and reading carries on.
func TestReadMalformedLines(t *testing.T) {
	r := openTestdata(t, "malformed.jsonl")
	var warned []*LineError
	r.Warn = func(le *LineError) { warned = append(warned, le) }
	var kinds []string
	for {
		rec, err := r.NextValid()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, rec.Kind)
	}
	if got, want := strings.Join(kinds, " "), "run neuron neuron neuron trial trial"; got != want {
		t.Errorf("records %q, want %q", got, want)
	}
	want := []struct {
		line int
		msg  string
	}{
		{3, "blank line"},
		{4, "not JSON: unexpected 'h' at byte 2 looking for true"},
		{5, `unknown kind "gossip"`},
		{10, "truncated record at the end of the file (not JSON: unexpected end of line in a string)"},
	}
	if len(warned) != len(want) || r.Skipped() != len(want) {
		t.Fatalf("warned %v (skipped %d), want %d lines", warned, r.Skipped(), len(want))
	}
	for i, w := range want {
		le := warned[i]
		if le.Line != w.line || le.Msg != w.msg || le.Error() != "malformed.jsonl:"+itoa(w.line)+": "+w.msg {
			t.Errorf("warning %d: %q (line %d), want line %d %q", i, le.Error(), le.Line, w.line, w.msg)
		}
	}
	if r.Line() != 10 {
		t.Errorf("read %d lines, want 10", r.Line())
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after the end: %v, want EOF", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// Each malformed line gets a precise, one-line reason.
func TestReadLineErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{`   `, "blank line"},
		{`[1,2]`, "not a JSON object"},
		{`"run"`, "not a JSON object"},
		{`{"kind":"run","run":"a"} x`, "not JSON: unexpected 'x' at byte 26 after the object"},
		{`{"kind":"run","run":"a",}`, `not JSON: unexpected '}' at byte 25 looking for a key`},
		{`{"kind":"run" "run":"a"}`, `not JSON: unexpected '"' at byte 15 after a value`},
		{`{"kind":"run","run":"a\q"}`, `not JSON: unexpected 'q' at byte 24 after a backslash`},
		{`{"kind":"run","run":01}`, `not JSON: unexpected '1' at byte 22 after a value`},
		{`{"kind":"run","run":"a","x":[` + strings.Repeat("[", 1200) + strings.Repeat("]", 1201) + `}`, "nested deeper than 1000"},
		{`{}`, `no "kind" field`},
		{`{"kind":7,"run":"a"}`, `"kind" is not a string`},
		{`{"kind":"bogus","run":"a"}`, `unknown kind "bogus"`},
		{`{"kind":"run"}`, `run record without "run"`},
		{`{"kind":"run","run":["a"]}`, `"run" is not a string`},
		{`{"kind":"trial","run":"a","from":"dopamine","trial":-1}`, `"trial" is -1, not a whole number`},
		{`{"kind":"trial","run":"a","from":"dopamine","trial":1.5}`, `"trial" is 1.5, not a whole number`},
		{`{"kind":"trial","run":"a","from":"dopamine","trial":18446744073709551616}`, `not a whole number`},
		{`{"kind":"trial","run":"a","from":7,"trial":1}`, `"from" is not a string`},
		{`{"kind":"dopamine","run":"a","from":"dopamine","trial":1,"seq":0}`, `dopamine record without "to"`},
		{`{"kind":"weight","run":"a","from":"neuron/h/000"}`, `weight record without "trial"`},
		{`{"kind":"deadletter","run":"a","message":"dopamine"}`, `deadletter record without "to"`},
	}
	for _, c := range cases {
		r := NewReader(strings.NewReader(c.line + "\n"))
		_, err := r.Next()
		var le *LineError
		if !errors.As(err, &le) || !strings.Contains(le.Msg, c.want) || le.Line != 1 {
			t.Errorf("%.60q: error %v, want line 1 %q", c.line, err, c.want)
			continue
		}
		if strings.Contains(le.Error(), "\n") {
			t.Errorf("%.60q: multi-line error %q", c.line, le)
		}
		if _, err := r.Next(); err != io.EOF {
			t.Errorf("%.60q: then %v, want EOF", c.line, err)
		}
	}
}

// Escapes and whitespace are read as JSON defines them; the last of a
// repeated key wins, as with encoding/json.
func TestReadEscapesAndRepeatedKeys(t *testing.T) {
	line := ` { "\u006bind" : "run" , "run":"s\u00e9ed\/1", "run":"seed\t2", "x": [ 1 , "NaN" ] } ` + "\r"
	rec, err := NewReader(strings.NewReader(line)).Next()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Kind != KindRun || rec.Run != "seed\t2" {
		t.Errorf("kind %q run %q", rec.Kind, rec.Run)
	}
	var keys []string
	for k := range rec.Fields() {
		keys = append(keys, k)
	}
	if got := strings.Join(keys, ","); got != "kind,run,run,x" {
		t.Errorf("keys %s", got)
	}
	x, err := rec.Floats("x")
	if err != nil || len(x) != 2 || x[0] != 1 || !math.IsNaN(x[1]) {
		t.Errorf("Floats(x) = %v, %v", x, err)
	}
}

// Lines far longer than the read buffer are read whole; a line over MaxLine
// is skipped without being held, and the next line is read.
func TestReadLongLines(t *testing.T) {
	vals := strings.Repeat("0.123456789,", 200_000) + "1"
	long := `{"kind":"activation","run":"a","trial":0,"from":"neuron/h/000","to":"env","seq":0,"vals":[` + vals + `]}`
	short := `{"kind":"end","run":"a","how":"solved"}`
	input := long + "\n" + short + "\n" + long // the last one without newline
	recs, bad := readAll(t, NewReader(strings.NewReader(input)))
	if len(recs) != 3 || len(bad) != 0 || string(recs[0].Raw) != long || string(recs[2].Raw) != long {
		t.Fatalf("%d records, %v", len(recs), bad)
	}
	v, err := recs[0].Floats("vals")
	if err != nil || len(v) != 200_001 || v[0] != 0.123456789 || v[200_000] != 1 {
		t.Errorf("vals: %d values, %v", len(v), err)
	}

	r := NewReader(strings.NewReader(input))
	r.MaxLine = 100_000
	recs, bad = readAll(t, r)
	if len(recs) != 1 || recs[0].Kind != KindEnd || recs[0].Line != 2 || len(bad) != 2 {
		t.Fatalf("with MaxLine: %d records, %v", len(recs), bad)
	}
	for i, le := range bad {
		if le.Line != 1+2*i || le.Msg != "line longer than 100000 bytes" {
			t.Errorf("error %d: %v", i, le)
		}
	}
}

// Floats are read as the zap encoder writes them: shortest 'f' form, and
// NaN and ±Inf as strings.
func TestReadFloats(t *testing.T) {
	tiny := "0." + strings.Repeat("0", 299) + "1" // 1e-300 in 'f' form
	line := `{"kind":"weight","run":"a","trial":0,"from":"n","w":-0,"xi":` + tiny +
		`,"delta":"NaN","eta":"+Inf","dw":"-Inf","w_new":0.000123,"big":1e400,"s":"x","b":true}`
	rec, err := NewReader(strings.NewReader(line)).Next()
	if err != nil {
		t.Fatal(err)
	}
	check := func(key string, want float64) {
		t.Helper()
		got, err := rec.Float(key)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("Float(%s) = %v, %v; want %v", key, got, err, want)
		}
	}
	check("w", math.Copysign(0, -1))
	check("xi", 1e-300)
	check("delta", math.NaN())
	check("eta", math.Inf(1))
	check("dw", math.Inf(-1))
	check("w_new", 0.000123)
	for _, key := range []string{"big", "s", "b", "missing"} {
		if v, err := rec.Float(key); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("Float(%s) = %v, %v; want a one-line error", key, v, err)
		}
	}
	if _, err := rec.Uint("w_new"); err == nil {
		t.Error("Uint of a fraction: no error")
	}
	if _, err := rec.String("w"); err == nil {
		t.Error("String of a number: no error")
	}
	if _, err := rec.Strings("s"); err == nil {
		t.Error("Strings of a string: no error")
	}
}

// Float marshals as the log writes floats and reads back both forms.
func TestFloatJSON(t *testing.T) {
	in := []Float{0, Float(math.Copysign(0, -1)), 0.1, -2.5e-7, 1e21, 123456789, Float(math.NaN()), Float(math.Inf(1)), Float(math.Inf(-1))}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `[0,-0,0.1,-2.5e-07,1e+21,123456789,"NaN","+Inf","-Inf"]`; got != want {
		t.Errorf("marshal: %s, want %s", got, want)
	}
	var out []Float
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if math.Float64bits(float64(in[i])) != math.Float64bits(float64(out[i])) && !math.IsNaN(float64(in[i])) {
			t.Errorf("%d: %v read back as %v", i, in[i], out[i])
		}
	}
	if err := json.Unmarshal([]byte(`["Inf"]`), &out); err == nil {
		t.Error(`"Inf" read as a float`)
	}
}

// errReader fails after giving some bytes.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// A read error is returned, after the complete lines before it, and again on
// every later call.
func TestReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := NewReader(&errReader{data: []byte(`{"kind":"end","run":"a","how":"solved"}` + "\n" + `{"kind":"en`), err: boom})
	if rec, err := r.Next(); err != nil || rec.Kind != KindEnd {
		t.Fatalf("first line: %v, %v", rec, err)
	}
	for i := 0; i < 2; i++ {
		if _, err := r.NextValid(); err != boom {
			t.Errorf("call %d: %v, want the read error", i, err)
		}
	}
}

// FuzzRead: arbitrary bytes never panic; a line is accepted only if it is a
// JSON object (encoding/json agrees), "not JSON" only if it is not; and every
// accepted record re-encodes (its fields written back as an object) to a line
// that reads back to the same record.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"xor.jsonl", "malformed.jsonl"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"kind":"run","run":"\u00e9\ud800","x":[1e5,-0.0,"NaN",{"a":[]}]}` + "\n\n{"))
	f.Add([]byte("{\"kind\":\"trial\",\"run\":\"r\",\"from\":\"d\",\"trial\":18446744073709551615}\r\n\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		r.MaxLine = 1 << 16
		lines := bytes.Split(data, []byte("\n"))
		prev := 0
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			var le *LineError
			if errors.As(err, &le) {
				if le.Line <= prev || strings.Contains(le.Error(), "\n") {
					t.Fatalf("line error %q after line %d", le, prev)
				}
				prev = le.Line
				if strings.Contains(le.Msg, "not JSON") && len(lines[le.Line-1]) <= r.MaxLine && json.Valid(lines[le.Line-1]) {
					t.Fatalf("line %d %q: %s, but encoding/json reads it", le.Line, lines[le.Line-1], le.Msg)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.Line <= prev {
				t.Fatalf("record at line %d after line %d", rec.Line, prev)
			}
			prev = rec.Line
			if !bytes.Equal(rec.Raw, lines[rec.Line-1]) {
				t.Fatalf("line %d: Raw %q, file %q", rec.Line, rec.Raw, lines[rec.Line-1])
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(rec.Raw, &m); err != nil {
				t.Fatalf("accepted %q, which encoding/json rejects: %v", rec.Raw, err)
			}
			var kind, run string
			if json.Unmarshal(m["kind"], &kind) != nil || kind != rec.Kind || json.Unmarshal(m["run"], &run) != nil || run != rec.Run {
				t.Fatalf("%q: kind %q run %q, encoding/json reads %q %q", rec.Raw, rec.Kind, rec.Run, kind, run)
			}
			checkReencoded(t, rec)
		}
	})
}

// checkReencoded re-encodes rec (every field, keys through encoding/json,
// values as read) and checks that it reads back the same, and that every
// number field reads as encoding/json reads it.
func checkReencoded(t *testing.T, rec *Record) {
	t.Helper()
	var out bytes.Buffer
	out.WriteByte('{')
	n := 0
	for k, v := range rec.Fields() {
		if n > 0 {
			out.WriteByte(',')
		}
		n++
		kb, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(kb)
		out.WriteByte(':')
		out.Write(v)
	}
	out.WriteByte('}')
	again, err := NewReader(bytes.NewReader(out.Bytes())).Next()
	if err != nil {
		t.Fatalf("%q re-encoded as %q: %v", rec.Raw, out.Bytes(), err)
	}
	if again.Kind != rec.Kind || again.Run != rec.Run || again.From != rec.From || again.To != rec.To ||
		again.Trial != rec.Trial || again.HasTrial != rec.HasTrial || again.Seq != rec.Seq || again.HasSeq != rec.HasSeq ||
		again.NumFields() != rec.NumFields() {
		t.Fatalf("%q re-encoded as %q reads differently", rec.Raw, out.Bytes())
	}
	for k, v := range rec.Fields() {
		if w, ok := again.Value(k); !ok {
			t.Fatalf("%q re-encoded as %q lost %q", rec.Raw, out.Bytes(), k)
		} else if got, _ := rec.Value(k); !bytes.Equal(got, w) {
			t.Fatalf("%q: field %q is %s, re-encoded %s", rec.Raw, k, v, w)
		}
		if v, _ = rec.Value(k); v[0] == '"' { // the last of a repeated key
			continue
		}
		f, err := rec.Float(k)
		var ref float64
		refErr := json.Unmarshal(v, &ref)
		if (err == nil) != (refErr == nil) || err == nil && math.Float64bits(ref) != math.Float64bits(f) {
			t.Fatalf("%q: Float(%q) = %v, %v; encoding/json %v, %v", rec.Raw, k, f, err, ref, refErr)
		}
	}
}
