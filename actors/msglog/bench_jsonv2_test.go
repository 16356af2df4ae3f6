//go:build goexperiment.jsonv2

package msglog

import (
	"bytes"
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
	"io"
	"testing"
)

// With GOEXPERIMENT=jsonv2, BenchmarkDecode also measures encoding/json/v2
// (experimental in Go 1.26; encoding/json itself then runs on it).
func init() {
	decodeCases = append(decodeCases,
		decodeCase{"jsontext", jsontextPass},
		decodeCase{"encoding-json-v2-raw", jsonV2RawPass},
	)
}

// jsontextPass reads the log as one stream of jsontext tokens: each record's
// '{', then each name and its value as raw JSON text, then its '}'. Repeated
// names are allowed, as the reader and encoding/json allow them.
func jsontextPass(b *testing.B, data []byte) (records, kindBytes int) {
	d := jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowDuplicateNames(true))
	for {
		tok, err := d.ReadToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if tok.Kind() != '{' {
			b.Fatalf("record %d is %v, not an object", records+1, tok.Kind())
		}
		for d.PeekKind() != '}' {
			name, err := d.ReadToken()
			if err != nil {
				b.Fatal(err)
			}
			isKind := name.String() == "kind" // before ReadValue voids name
			v, err := d.ReadValue()
			if err != nil {
				b.Fatal(err)
			}
			if isKind {
				kindBytes += len(unquote(v))
			}
		}
		if _, err := d.ReadToken(); err != nil { // the '}'
			b.Fatal(err)
		}
		records++
	}
	return records, kindBytes
}

// jsonV2RawPass decodes each line with encoding/json/v2 into a
// map[string]jsontext.Value (one map, cleared and reused), repeated names
// allowed.
func jsonV2RawPass(b *testing.B, data []byte) (records, kindBytes int) {
	m := map[string]jsontext.Value{}
	eachLine(data, func(line []byte) {
		clear(m)
		if err := jsonv2.Unmarshal(line, &m, jsontext.AllowDuplicateNames(true)); err != nil {
			b.Fatal(err)
		}
		records++
		kindBytes += len(unquote(m["kind"]))
	})
	return records, kindBytes
}
