package cli

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// The README's walkthrough and hack/walkthrough.sh (what `make demo` runs) are one list
// of commands: the README's sh blocks between these markers, and the script's lines
// between its own.
const (
	readmeWalkthroughBegin = "<!-- walkthrough: begin"
	readmeWalkthroughEnd   = "<!-- walkthrough: end -->"
	scriptWalkthroughBegin = "# walkthrough: begin"
	scriptWalkthroughEnd   = "# walkthrough: end"
)

// TestWalkthroughScriptMatchesREADME keeps the README's walkthrough and the script
// that runs it the same commands, in the same order: comments and blank lines aside,
// line for line.
func TestWalkthroughScriptMatchesREADME(t *testing.T) {
	readme := readFile(t, filepath.Join("..", "..", "README.md"))
	script := readFile(t, filepath.Join("..", "..", "hack", "walkthrough.sh"))
	got := commandLines(readmeWalkthrough(t, readme))
	want := commandLines(scriptWalkthrough(t, script))
	if len(got) == 0 || len(want) == 0 {
		t.Fatalf("the README's walkthrough has %d command lines, hack/walkthrough.sh %d: both must have them", len(got), len(want))
	}
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Fatalf("line %d differs:\n  README.md:            %q\n  hack/walkthrough.sh:  %q\nchange both together", i+1, g, w)
		}
	}
}

func TestWalkthroughExtraction(t *testing.T) {
	readme := "intro\n```sh\nnot in it\n```\n" + readmeWalkthroughBegin + " -->\ntext\n```sh\n# a comment\nferry a \\\n  --b\n\n```\n```yaml\nkey: no\n```\n```sh\nferry c\n```\n" + readmeWalkthroughEnd + "\n```sh\nafter\n```\n"
	if got, want := commandLines(readmeWalkthrough(t, readme)), []string{"ferry a \\", "  --b", "ferry c"}; !slices.Equal(got, want) {
		t.Errorf("README: got %q, want %q", got, want)
	}
	script := "setup\n" + scriptWalkthroughBegin + "\nferry a \\\n  --b   \n" + scriptWalkthroughEnd + "\nbetween\n" + scriptWalkthroughBegin + "\n# c\nferry c\n" + scriptWalkthroughEnd + "\n"
	if got, want := commandLines(scriptWalkthrough(t, script)), []string{"ferry a \\", "  --b", "ferry c"}; !slices.Equal(got, want) {
		t.Errorf("script: got %q, want %q", got, want)
	}
}

// readmeWalkthrough returns the lines of the sh code blocks between the README's
// walkthrough markers.
func readmeWalkthrough(t *testing.T, text string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(text, readmeWalkthroughBegin)
	if !ok {
		t.Fatalf("README.md has no %q marker", readmeWalkthroughBegin)
	}
	section, _, ok := strings.Cut(rest, readmeWalkthroughEnd)
	if !ok {
		t.Fatalf("README.md has no %q marker after the walkthrough's beginning", readmeWalkthroughEnd)
	}
	var lines []string
	inSh, inOther := false, false
	for _, line := range strings.Split(section, "\n") {
		switch {
		case inSh && strings.HasPrefix(line, "```"):
			inSh = false
		case inOther && strings.HasPrefix(line, "```"):
			inOther = false
		case inSh:
			lines = append(lines, line)
		case inOther:
		case line == "```sh":
			inSh = true
		case strings.HasPrefix(line, "```"):
			inOther = true
		}
	}
	return lines
}

// scriptWalkthrough returns the script's lines between its walkthrough markers (there
// may be several stretches: the script does its own housekeeping in between).
func scriptWalkthrough(t *testing.T, text string) []string {
	t.Helper()
	var lines []string
	in, stretches := false, 0
	for _, line := range strings.Split(text, "\n") {
		switch strings.TrimSpace(line) {
		case scriptWalkthroughBegin:
			in = true
			stretches++
		case scriptWalkthroughEnd:
			in = false
		default:
			if in {
				lines = append(lines, line)
			}
		}
	}
	if stretches == 0 || in {
		t.Fatalf("hack/walkthrough.sh must mark its walkthrough with %q … %q", scriptWalkthroughBegin, scriptWalkthroughEnd)
	}
	return lines
}

// commandLines drops blank lines and comment lines and trailing blanks.
func commandLines(lines []string) []string {
	var out []string
	for _, line := range lines {
		line = strings.TrimRight(line, " \t")
		if trimmed := strings.TrimSpace(line); trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// TestReadmeCommandsTableListsEveryCommand fails when a command that runs is missing
// from the README's commands table, or the table names one that does not exist.
func TestReadmeCommandsTableListsEveryCommand(t *testing.T) {
	listed := readmeCommands(t, readFile(t, filepath.Join("..", "..", "README.md")))
	var exist []string
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		if c.HasParent() && c.Runnable() && !onlyGroups(t, c) {
			exist = append(exist, c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCommand(io.Discard, io.Discard))
	if len(exist) < 10 {
		t.Fatalf("found only %d commands: %q", len(exist), exist)
	}
	for _, c := range exist {
		if !slices.Contains(listed, c) {
			t.Errorf("README.md's commands table has no row for %q", c)
		}
	}
	for _, c := range listed {
		if !slices.Contains(exist, c) {
			t.Errorf("README.md's commands table lists %q, which is not a command", c)
		}
	}
}

// onlyGroups tells a command that only groups others (ferry proxy: run alone, it
// prints its help) from one that does something of its own and has subcommands too
// (ferry proxy weights).
func onlyGroups(t *testing.T, c *cobra.Command) bool {
	if !c.HasSubCommands() {
		return false
	}
	code, stdout, _ := run(t, strings.Fields(c.CommandPath())[1:]...)
	return code == 0 && strings.Contains(stdout, "Available Commands:")
}

// readmeCommands returns the command paths the first column of the table under
// "## Commands" names: every code span's leading words, with a|b alternatives expanded
// ("ferry migrate start|resume [-f FILE]" names ferry migrate start and resume).
func readmeCommands(t *testing.T, text string) []string {
	t.Helper()
	var cmds []string
	inSection, inTable := false, false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
			if inSection {
				return cmds
			}
			inSection = line == "## Commands"
		case !inSection:
		case strings.HasPrefix(line, "|"):
			inTable = true
			first := strings.SplitN(strings.ReplaceAll(line, `\|`, "¦"), "|", 3)[1]
			spans := strings.Split(first, "`")
			for i := 1; i < len(spans); i += 2 {
				cmds = append(cmds, commandPaths(spans[i])...)
			}
		case inTable:
			return cmds
		}
	}
	if len(cmds) == 0 {
		t.Fatal("README.md has no commands table under ## Commands")
	}
	return cmds
}

var commandWord = regexp.MustCompile(`^[a-z][a-z0-9-]*(¦[a-z][a-z0-9-]*)*$`)

func commandPaths(span string) []string {
	words := strings.Fields(span)
	if len(words) == 0 || words[0] != "ferry" {
		return nil
	}
	paths := []string{"ferry"}
	for _, w := range words[1:] {
		if !commandWord.MatchString(w) {
			break
		}
		var next []string
		for _, p := range paths {
			for _, alt := range strings.Split(w, "¦") {
				next = append(next, p+" "+alt)
			}
		}
		paths = next
	}
	return paths
}

// TestReadmeLinksResolve checks every relative link of README.md and docs/*.md: the
// file exists and, with a #fragment into a Markdown file, a heading there has it.
func TestReadmeLinksResolve(t *testing.T) {
	root := filepath.Join("..", "..")
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, filepath.Join(root, "README.md"))
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, page := range pages {
		text := readFile(t, page)
		for _, m := range link.FindAllStringSubmatch(withoutCode(text), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, fragment, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), file)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link %q: no such file", rel(root, page), target)
				continue
			}
			if fragment != "" && strings.HasSuffix(path, ".md") && !slices.Contains(anchors(readFile(t, path)), fragment) {
				t.Errorf("%s: link %q: %s has no heading with that anchor", rel(root, page), target, rel(root, path))
			}
		}
	}
}

// withoutCode blanks fenced code blocks, whose brackets are not links.
func withoutCode(text string) string {
	var b strings.Builder
	fence := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
			continue
		}
		if !fence {
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// anchors returns the anchors GitHub gives the headings of a Markdown page.
func anchors(text string) []string {
	var out []string
	seen := map[string]int{}
	for _, line := range strings.Split(withoutCode(text), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		heading := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(heading) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			seen[a]++
			a = a + "-" + string(rune('0'+n))
		} else {
			seen[a] = 1
		}
		out = append(out, a)
	}
	return out
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return r
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
