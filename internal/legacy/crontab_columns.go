package legacy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// UserColumn says whether a crontab has a user column between schedule and command.
type UserColumn int

// How ReadCrontab treats the field after the schedule.
const (
	// DetectUserColumn decides from the file: its path, a header comment naming the
	// columns, or the words after the schedules.
	DetectUserColumn UserColumn = iota
	// WithUserColumn reads a system crontab (/etc/crontab, /etc/cron.d/*).
	WithUserColumn
	// WithoutUserColumn reads a user crontab (crontab -l).
	WithoutUserColumn
)

// ErrUserColumnUnclear means ReadCrontab could not tell whether a crontab has a user
// column; the caller must say.
var ErrUserColumnUnclear = errors.New("cannot tell whether the word after each schedule is the user it ran as (a system crontab, as in /etc/cron.d) or the start of the command (crontab -l)")

// ReadCrontab parses a crontab with or without a user column, or with col
// DetectUserColumn, after deciding which it is; an unclear file is an error wrapping
// ErrUserColumnUnclear rather than a guess. When the content decided, the Crontab's
// UserColumnReason says why, for a note.
func ReadCrontab(file string, data []byte, col UserColumn) (*Crontab, error) {
	system := col == WithUserColumn
	reason, line := "", 0
	if col == DetectUserColumn {
		var err error
		if system, reason, line, err = detectUserColumn(file, data); err != nil {
			return nil, err
		}
	}
	tab, err := ParseCrontab(file, data, system)
	if err != nil {
		return nil, err
	}
	tab.UserColumnReason, tab.UserColumnLine = reason, line
	return tab, nil
}

var (
	// columnHeader is a comment that names the columns, as the templates of crontab -e
	// and /etc/crontab have: "m h dom mon dow user command", "*  *  *  *  * user-name
	// command to be executed".
	columnHeader = regexp.MustCompile(`(?i)(\b(dom|dow|day.of.week|minute)\b|^(\*\s+){4}\*\s).*\bcommand\b`)
	headerUser   = regexp.MustCompile(`(?i)\buser(.?name)?\b`)
	// notUserName holds characters a user name does not have and commands often do.
	notUserName = regexp.MustCompile("[/=\\\\'\"$;&|<>()\\[\\]{}*`~]")
)

// systemUsers are accounts that crontabs of web apps run jobs as.
var systemUsers = map[string]bool{
	"root": true, "www-data": true, "www": true, "wwwrun": true, "_www": true, "http": true, "nginx": true,
	"apache": true, "httpd": true, "nobody": true, "daemon": true, "deploy": true, "deployer": true,
	"app": true, "ubuntu": true, "ec2-user": true, "centos": true, "debian": true, "admin": true,
	"postgres": true, "mysql": true, "backup": true, "forge": true, "webapp": true, "bitnami": true,
	"rails": true, "laravel": true, "symfony": true, "jenkins": true, "ops": true,
}

// programs are words that start commands in crontabs and are nobody's user name.
var programs = map[string]bool{
	"cd": true, "export": true, "source": true, ".": true, "test": true, "if": true, "set": true,
	"umask": true, "exec": true, "env": true, "nice": true, "ionice": true, "timeout": true, "flock": true,
	"chronic": true, "sudo": true, "su": true, "sh": true, "bash": true, "php": true, "bundle": true,
	"rake": true, "ruby": true, "python": true, "python3": true, "node": true, "npm": true,
	"perl": true, "curl": true, "wget": true, "find": true, "rm": true, "mv": true, "cp": true, "tar": true,
	"gzip": true, "rsync": true, "mysqldump": true, "pg_dump": true, "psql": true,
	"echo": true, "touch": true, "sleep": true, "run-parts": true, "test-and-run": true, "aws": true,
	"s3cmd": true, "logrotate": true, "certbot": true, "drush": true, "wp": true, "composer": true,
	"true": true, "false": true, "docker": true, "kill": true, "pkill": true, "systemctl": true, "service": true,
}

// detectUserColumn decides whether a crontab has a user column: by its path, a
// header comment, or the word after each schedule. It returns why when the content
// decided, and the line that did.
func detectUserColumn(file string, data []byte) (system bool, reason string, line int, err error) {
	clean := filepath.ToSlash(filepath.Clean(file))
	if clean == "/etc/crontab" || strings.HasPrefix(clean, "/etc/cron.d/") {
		return true, "", 0, nil
	}
	var users, commands, unknown []entryWord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxCrontabLine)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "" || cronEnvLine.MatchString(text):
		case strings.HasPrefix(text, "#"):
			comment := strings.TrimLeft(text, "# \t")
			if columnHeader.MatchString(comment) {
				head, _, _ := strings.Cut(strings.ToLower(comment), "command")
				if headerUser.MatchString(head) {
					return true, fmt.Sprintf("the header comment names a user column (%q)", comment), n, nil
				}
				return false, "", 0, nil
			}
		default:
			w := sixthWord(text)
			switch w.kind(text) {
			case "user":
				users = append(users, entryWord{n, w.word})
			case "command":
				commands = append(commands, entryWord{n, w.word})
			default:
				unknown = append(unknown, entryWord{n, w.word})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return false, "", 0, positionError(file, 1, "%v", err)
	}
	distinct := distinctWords(append(append([]entryWord(nil), users...), unknown...))
	switch {
	case len(users)+len(commands)+len(unknown) == 0:
		return false, "", 0, nil
	case len(users) > 0 && len(commands) == 0 && len(distinct) <= 3:
		return true, fmt.Sprintf("every entry has a user name after the schedule (%s)", strings.Join(distinct, ", ")), users[0].line, nil
	case len(commands) > 0 && len(users) == 0:
		return false, "", 0, nil
	case len(users) > 0 && len(commands) > 0:
		return false, "", 0, fmt.Errorf("%s: %w: line %d has %q there, line %d has %q: pass --system or --no-system",
			file, ErrUserColumnUnclear, users[0].line, users[0].word, commands[0].line, commands[0].word)
	}
	first := append(users, unknown...)[0]
	return false, "", 0, fmt.Errorf("%s: %w: line %d has %q there: pass --system or --no-system", file, ErrUserColumnUnclear, first.line, first.word)
}

// entryWord is the word after the schedule of the entry at a line.
type entryWord struct {
	line int
	word string
}

func distinctWords(ws []entryWord) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range ws {
		if !seen[w.word] {
			seen[w.word] = true
			out = append(out, w.word)
		}
	}
	sort.Strings(out)
	return out
}

// afterSchedule is the word after an entry's schedule and the one after it.
type afterSchedule struct{ word, next string }

func sixthWord(line string) afterSchedule {
	n := 5
	if strings.HasPrefix(line, "@") {
		n = 1
	}
	_, rest := splitFields(line, n)
	words, _ := splitFields(rest, 2)
	var a afterSchedule
	if len(words) > 0 {
		a.word = words[0]
	}
	if len(words) > 1 {
		a.next = words[1]
	}
	return a
}

// kind says what the word after the schedule is: "user" when it is a known account
// or a name followed by a command word, "command" when it cannot be a user column
// (a path, an assignment, quoting, a program, nothing after it), else "".
func (a afterSchedule) kind(line string) string {
	w := a.word
	switch {
	case w == "":
		return "command"
	case notUserName.MatchString(w) || !cronUser.MatchString(w) || programs[w] || a.next == "":
		return "command"
	case systemUsers[w]:
		return "user"
	case programs[a.next] || assignment.MatchString(a.next):
		return "user" // "app cd /srv && …": as a command, app would take cd as its argument
	}
	return ""
}
