package legacy

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Var is one variable of a dotenv file.
type Var struct {
	Name  string
	Value string
	Line  int
	// Refs are the variables its value expands (${NAME} or $NAME).
	Refs []string
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// Limits of a dotenv file's values after expansion. A ConfigMap or a Secret holds at
// most 1 MiB, so nothing larger can be imported; the limits also keep a small file
// whose variables expand each other twice over (A=${B}${B}, B=${C}${C}, …) from
// growing to gigabytes before anything notices.
const (
	MaxDotenvValue = 256 << 10
	MaxDotenvTotal = 1 << 20
)

// ParseDotenv reads a dotenv file as the dotenv libraries of Ruby and PHP do: NAME=value
// lines, an optional `export `, # comments, 'literal' and "escaped" values that may span
// lines, and ${NAME} or $NAME expanding a variable set earlier in the file. A name set
// twice keeps its later value. A value longer than MaxDotenvValue, also once expanded,
// or values adding up to more than MaxDotenvTotal are errors at their line. Errors and
// notes never quote a value.
func ParseDotenv(file string, data []byte) ([]Var, []Note, error) {
	text := strings.TrimPrefix(strings.ReplaceAll(string(data), "\r\n", "\n"), "\ufeff")
	lines := strings.Split(text, "\n")
	p := &dotenvParser{file: file, index: map[string]int{}}
	for i := 0; i < len(lines); i++ {
		consumed, err := p.line(i+1, lines[i], lines[i+1:])
		if err != nil {
			return nil, nil, err
		}
		i += consumed
	}
	return p.vars, p.notes, nil
}

type dotenvParser struct {
	file  string
	vars  []Var
	index map[string]int
	notes []Note
	// total is the size of the values kept so far.
	total int
}

func (p *dotenvParser) note(line int, format string, args ...any) {
	p.notes = append(p.notes, Note{File: p.file, Line: line, Kind: Review, Message: fmt.Sprintf(format, args...)})
}

// line reads the variable starting at line n and returns how many of the following
// lines its value took.
func (p *dotenvParser) line(n int, line string, following []string) (int, error) {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || strings.HasPrefix(trimmed, "#") {
		return 0, nil
	}
	if rest, ok := strings.CutPrefix(trimmed, "export"); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "\t")) {
		trimmed = strings.TrimSpace(rest)
	}
	name, rest, ok := strings.Cut(trimmed, "=")
	if !ok {
		return 0, positionError(p.file, n, "want NAME=VALUE")
	}
	name = strings.TrimSpace(name)
	if !envName.MatchString(name) {
		return 0, positionError(p.file, n, "the text before = is not a variable name (letters, digits, _ and ., not starting with a digit)")
	}
	raw, consumed, quote, err := quotedValue(strings.TrimLeft(rest, " \t"), following)
	if err != nil {
		return 0, positionError(p.file, n, "%s: %v", name, err)
	}
	v := Var{Name: name, Line: n}
	if quote == '\'' {
		v.Value = raw
	} else if v.Value, v.Refs, err = p.interpolate(n, name, raw, quote == '"'); err != nil {
		return 0, err
	}
	if len(v.Value) > MaxDotenvValue {
		return 0, positionError(p.file, n, "%s: the value is longer than %d KiB, more than a variable should hold", name, MaxDotenvValue>>10)
	}
	if !utf8.ValidString(v.Value) {
		return 0, positionError(p.file, n, "%s: the value is not UTF-8 text", name)
	}
	replaced := 0
	i, seen := p.index[name]
	if seen {
		replaced = len(p.vars[i].Value)
	}
	if p.total-replaced+len(v.Value) > MaxDotenvTotal {
		return 0, positionError(p.file, n, "%s: the values add up to more than %d MiB, the most a ConfigMap or a Secret holds", name, MaxDotenvTotal>>20)
	}
	p.total += len(v.Value) - replaced
	if seen {
		p.note(n, "%s is set again (first at line %d): the later value wins", name, p.vars[i].Line)
		p.vars[i] = v
		return consumed, nil
	}
	p.index[name] = len(p.vars)
	p.vars = append(p.vars, v)
	return consumed, nil
}

// quotedValue splits off a value: quoted ones end at their closing quote, possibly
// lines later, and allow only a comment after it; unquoted ones end at " #".
func quotedValue(rest string, following []string) (string, int, byte, error) {
	if rest == "" || (rest[0] != '\'' && rest[0] != '"') {
		if i := strings.Index(rest, " #"); i >= 0 {
			rest = rest[:i]
		}
		if i := strings.Index(rest, "\t#"); i >= 0 {
			rest = rest[:i]
		}
		return strings.TrimSpace(rest), 0, 0, nil
	}
	quote := rest[0]
	body := rest[1:]
	from := 0
	for consumed := 0; ; consumed++ {
		end, next := closingQuote(body, quote, from)
		if end >= 0 {
			after := strings.TrimSpace(body[end+1:])
			if after != "" && !strings.HasPrefix(after, "#") {
				return "", 0, 0, fmt.Errorf("unexpected text after the closing quote")
			}
			return body[:end], consumed, quote, nil
		}
		if consumed == len(following) {
			return "", 0, 0, fmt.Errorf("the quoted value is never closed")
		}
		body += "\n" + following[consumed]
		from = next
	}
}

// closingQuote finds the quote that ends s, scanning from from; in double quotes a
// backslash escapes. Without one it returns -1 and where to go on once s grows.
func closingQuote(s string, quote byte, from int) (int, int) {
	i := from
	for ; i < len(s); i++ {
		switch {
		case quote == '"' && s[i] == '\\':
			i++
		case s[i] == quote:
			return i, i
		}
	}
	return -1, i
}

var escapes = map[byte]string{'n': "\n", 'r': "\r", 't': "\t", '"': `"`, '\\': `\`, '$': "$"}

// interpolate resolves escapes (in double quotes) and expands ${NAME} and $NAME from
// the variables above; an unknown name expands to nothing, with a note. It stops
// before the value grows past MaxDotenvValue.
func (p *dotenvParser) interpolate(n int, name, s string, escaped bool) (string, []string, error) {
	var out strings.Builder
	var refs []string
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (escaped || s[i+1] == '$') {
			if e, ok := escapes[s[i+1]]; ok {
				out.WriteString(e)
				i++
				continue
			}
		}
		if c != '$' || i+1 == len(s) {
			out.WriteByte(c)
			continue
		}
		ref, width := reference(s[i+1:])
		switch {
		case strings.HasPrefix(s[i+1:], "("):
			p.note(n, "%s uses $(...), which dotenv runs as a command when it loads: set the value it produces", name)
			out.WriteByte(c)
			continue
		case ref == "":
			out.WriteByte(c)
			continue
		}
		refs = append(refs, ref)
		if j, ok := p.index[ref]; ok {
			if out.Len()+len(p.vars[j].Value) > MaxDotenvValue {
				return "", nil, positionError(p.file, n, "%s: the value expands to more than %d KiB (through %s): a variable that expands others must stay below that", name, MaxDotenvValue>>10, ref)
			}
			out.WriteString(p.vars[j].Value)
		} else {
			p.note(n, "%s refers to %s, which the file does not set above it: it expands to nothing here", name, ref)
		}
		i += width
	}
	return out.String(), refs, nil
}

var (
	bracedRef = regexp.MustCompile(`^\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	plainRef  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)
)

// reference reads the name after a $ and how many bytes it took.
func reference(s string) (string, int) {
	if m := bracedRef.FindStringSubmatch(s); m != nil {
		return m[1], len(m[0])
	}
	if m := plainRef.FindString(s); m != "" {
		return m, len(m)
	}
	return "", 0
}
