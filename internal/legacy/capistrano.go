package legacy

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// Linked is a file or directory that Capistrano links from shared/ into every release:
// it lives on the server, outside the code, and the pods need it from somewhere else.
type Linked struct {
	Path string `json:"path"`
	Dir  bool   `json:"dir"`
	File string `json:"file"`
	Line int    `json:"line"`
}

var (
	linkedStatement = regexp.MustCompile(`^\s*(set|append|remove)\s*\(?\s*:linked_(files|dirs)\b(.*)$`)
	wordList        = regexp.MustCompile(`%[wWiI]\s*([\[{(<])`)
	quoted          = regexp.MustCompile(`"([^"\\]*)"|'([^'\\]*)'`)
)

var closers = map[byte]byte{'[': ']', '{': '}', '(': ')', '<': '>'}

// ParseCapistrano reads the linked_files and linked_dirs of a Capistrano configuration
// (config/deploy.rb or config/deploy/<stage>.rb): `set`, `append` and `remove` with
// %w[] lists or quoted strings, also spread over lines. Other Ruby is ignored.
func ParseCapistrano(file string, data []byte) ([]Linked, error) {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxCrontabLine)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, positionError(file, len(lines)+1, "%v", err)
	}
	var out []Linked
	for i := 0; i < len(lines); i++ {
		m := linkedStatement.FindStringSubmatch(stripComment(lines[i]))
		if m == nil {
			continue
		}
		start := i
		stmt := m[3]
		for open := unclosedList(stmt); open; open = unclosedList(stmt) {
			if i+1 == len(lines) {
				return nil, positionError(file, start+1, "the %%w list of linked_%s is never closed", m[2])
			}
			i++
			stmt += " " + stripComment(lines[i])
		}
		for strings.HasSuffix(strings.TrimSpace(stmt), ",") && i+1 < len(lines) {
			i++
			stmt += " " + stripComment(lines[i])
		}
		paths := statementPaths(stmt)
		dir := m[2] == "dirs"
		switch {
		case m[1] == "set" && !strings.Contains(stmt, "fetch(:linked_"):
			out = dropKind(out, dir)
			fallthrough
		case m[1] != "remove":
			for _, p := range paths {
				out = append(out, Linked{Path: p, Dir: dir, File: file, Line: start + 1})
			}
		default:
			out = removePaths(out, dir, paths)
		}
	}
	return out, nil
}

// stripComment cuts a Ruby comment: a # at the start or after a blank, not #{.
func stripComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i+1 == len(line) || line[i+1] != '{') && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

// unclosedList says whether s opens a %w list it does not close.
func unclosedList(s string) bool {
	m := wordList.FindStringSubmatchIndex(s)
	if m == nil {
		return false
	}
	return strings.IndexByte(s[m[1]:], closers[s[m[2]]]) < 0
}

// statementPaths are the words of %w lists and the quoted strings of a statement.
func statementPaths(s string) []string {
	var paths []string
	for {
		m := wordList.FindStringSubmatchIndex(s)
		if m == nil {
			break
		}
		end := strings.IndexByte(s[m[1]:], closers[s[m[2]]])
		if end < 0 {
			break
		}
		paths = append(paths, strings.Fields(s[m[1]:m[1]+end])...)
		s = s[:m[0]] + s[m[1]+end+1:]
	}
	for _, q := range quoted.FindAllStringSubmatch(s, -1) {
		if p := q[1] + q[2]; p != "" {
			paths = append(paths, p)
		}
	}
	return paths
}

func dropKind(list []Linked, dir bool) []Linked {
	out := list[:0]
	for _, l := range list {
		if l.Dir != dir {
			out = append(out, l)
		}
	}
	return out
}

func removePaths(list []Linked, dir bool, paths []string) []Linked {
	gone := map[string]bool{}
	for _, p := range paths {
		gone[p] = true
	}
	out := list[:0]
	for _, l := range list {
		if l.Dir != dir || !gone[l.Path] {
			out = append(out, l)
		}
	}
	return out
}

// ParseNameList reads variable names, one a line (# comments allowed); a NAME=value
// line counts as NAME and its value is ignored, so the output of `env` works too.
func ParseNameList(file string, data []byte) ([]Var, error) {
	var vars []Var
	for n, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "=")
		if !envName.MatchString(name) {
			return nil, positionError(file, n+1, "want a variable name (letters, digits, _ and ., not starting with a digit)")
		}
		vars = append(vars, Var{Name: name, Line: n + 1})
	}
	return vars, nil
}

var deployTo = regexp.MustCompile(`(?m)^\s*set\s*\(?\s*:deploy_to\s*,\s*(?:"([^"#]*)"|'([^']*)')`)

// DeployTo returns the deploy_to a Capistrano configuration sets, if a plain string:
// the app then ran from DeployTo/current.
func DeployTo(data []byte) string {
	m := deployTo.FindSubmatch(data)
	if m == nil {
		return ""
	}
	return string(m[1]) + string(m[2])
}
