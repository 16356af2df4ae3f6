package msglog

import (
	"fmt"
	"unicode/utf8"
)

// maxDepth bounds the nesting of arrays and objects in a line (records nest
// two deep); deeper lines are malformed.
const maxDepth = 1000

// parseObject checks that line is one JSON object (with any whitespace
// around it) and appends its top-level members to fields, keys interned in
// names. It returns "" or what is wrong: "blank line", "not a JSON object"
// for other JSON, or "not JSON: …".
func parseObject(line []byte, fields []field, names *internTable) ([]field, string) {
	i := skipSpace(line, 0)
	if i == len(line) {
		return fields, "blank line"
	}
	if line[i] != '{' {
		end, err := skipValue(line, i, 0)
		if err != nil {
			return fields, syntaxMsg(err)
		}
		if j := skipSpace(line, end); j != len(line) {
			return fields, syntaxMsg(unexpected(line, j, "after the value"))
		}
		return fields, "not a JSON object"
	}
	i = skipSpace(line, i+1)
	if i < len(line) && line[i] == '}' {
		i++
	} else {
		for {
			if i >= len(line) || line[i] != '"' {
				return fields, syntaxMsg(unexpected(line, i, "looking for a key"))
			}
			end, err := skipString(line, i)
			if err != nil {
				return fields, syntaxMsg(err)
			}
			f := field{keyStart: i + 1, keyEnd: end - 1}
			for _, c := range line[i+1 : end-1] {
				if c == '\\' || c >= utf8.RuneSelf {
					f.escaped, f.key = true, names.get(line[i:end])
					break
				}
			}
			i = skipSpace(line, end)
			if i >= len(line) || line[i] != ':' {
				return fields, syntaxMsg(unexpected(line, i, "after a key"))
			}
			i = skipSpace(line, i+1)
			start := i
			if i, err = skipValue(line, i, 1); err != nil {
				return fields, syntaxMsg(err)
			}
			f.start, f.end = start, i
			fields = append(fields, f)
			i = skipSpace(line, i)
			if i < len(line) && line[i] == ',' {
				i = skipSpace(line, i+1)
				continue
			}
			if i < len(line) && line[i] == '}' {
				i++
				break
			}
			return fields, syntaxMsg(unexpected(line, i, "after a value"))
		}
	}
	if i = skipSpace(line, i); i != len(line) {
		return fields, syntaxMsg(unexpected(line, i, "after the object"))
	}
	return fields, ""
}

// syntaxError is what is wrong with a line that is not JSON.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

// syntaxMsg is the LineError message for a line that skipValue rejects.
func syntaxMsg(err error) string {
	if err == errDepth {
		return err.Error()
	}
	return "not JSON: " + err.Error()
}

// errDepth is a line nested deeper than maxDepth: JSON, but not a record.
var errDepth = &syntaxError{fmt.Sprintf("nested deeper than %d", maxDepth)}

// unexpected describes the byte at i (or the end of b) met while doing what.
func unexpected(b []byte, i int, what string) error {
	if what != "" {
		what = " " + what
	}
	if i >= len(b) {
		return &syntaxError{"unexpected end of line" + what}
	}
	return &syntaxError{fmt.Sprintf("unexpected %q at byte %d%s", b[i], i+1, what)}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i], at nesting
// depth depth, after checking it.
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, unexpected(b, i, "looking for a value")
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	case c == '[':
		return skipArray(b, i, depth+1)
	case c == '{':
		return skipObject(b, i, depth+1)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return i, unexpected(b, i, "looking for a value")
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	for j := 0; j < len(lit); j++ {
		if i+j >= len(b) || b[i+j] != lit[j] {
			return i + j, unexpected(b, i+j, "looking for "+lit)
		}
	}
	return i + len(lit), nil
}

// plainByte[c] reports whether c stands for itself inside a JSON string.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipString returns the end of the JSON string whose opening quote is b[i].
func skipString(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		if plainByte[b[i]] {
			continue
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			i++
			if i >= len(b) {
				return i, unexpected(b, i, "in a string")
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for k := 0; k < 4; k++ {
					i++
					if i >= len(b) || !isHex(b[i]) {
						return i, unexpected(b, i, "in a \\u escape")
					}
				}
			default:
				return i, unexpected(b, i, "after a backslash")
			}
		case c < 0x20:
			return i, unexpected(b, i, "in a string")
		}
	}
	return i, unexpected(b, i, "in a string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipNumber returns the end of the JSON number starting at b[i].
func skipNumber(b []byte, i int) (int, error) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return i, unexpected(b, i, "in a number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return i, unexpected(b, i, "in a number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, unexpected(b, i, "in a number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, nil
}

// skipArray returns the end of the JSON array whose '[' is b[i].
func skipArray(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, errDepth
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = skipValue(b, i, depth); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		return i, unexpected(b, i, "in an array")
	}
}

// skipObject returns the end of the JSON object whose '{' is b[i].
func skipObject(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, errDepth
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, unexpected(b, i, "looking for a key")
		}
		var err error
		if i, err = skipString(b, i); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return i, unexpected(b, i, "after a key")
		}
		if i, err = skipValue(b, skipSpace(b, i+1), depth); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		return i, unexpected(b, i, "in an object")
	}
}
