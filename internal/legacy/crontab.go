package legacy

import (
	"bufio"
	"bytes"
	"errors"
	"regexp"
	"strings"

	"ferry.dev/ferry/internal/cronexpr"
)

// Crontab is a parsed crontab: a user's (five time fields and a command) or a system
// one such as /etc/crontab and /etc/cron.d/* (a user column before the command).
type Crontab struct {
	// File names the crontab in notes and annotations.
	File string
	Jobs []Job
	// UserColumnReason says why ReadCrontab read the file as a system crontab when its
	// content decided, at UserColumnLine; empty when the caller or the path did.
	UserColumnReason string
	UserColumnLine   int
}

// Job is one scheduled command of a crontab.
type Job struct {
	Line int
	// Schedule is the five time fields or the @-macro as written.
	Schedule string
	// User is the user column of a system crontab.
	User string
	// Command is the command with cron's escapes resolved (\% is %).
	Command string
	// Stdin is what cron feeds the command: the text after its first unescaped %,
	// further ones turned into newlines. HasStdin says there was one.
	Stdin    string
	HasStdin bool
	// Env are the variable lines above the job, in file order (a later one wins).
	Env []EnvVar
	// Comment is the comment line right above the job, if any.
	Comment string
}

// EnvVar is a NAME=value line of a crontab.
type EnvVar struct {
	Name  string
	Value string
	Line  int
}

var (
	cronEnvLine = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$`)
	cronUser    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*\$?$`)
)

// maxCrontabLine is longer than any line cron itself accepts.
const maxCrontabLine = 64 << 10

// ParseCrontab reads a crontab; system says it has a user column. Bad lines are
// errors naming file and line; schedules Kubernetes cannot express (@reboot, ...) are
// kept for CronJobs to report.
func ParseCrontab(file string, data []byte, system bool) (*Crontab, error) {
	tab := &Crontab{File: file}
	var env []EnvVar
	comment := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxCrontabLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		switch {
		case line == "":
			comment = ""
		case strings.HasPrefix(line, "#"):
			comment = commentName(strings.TrimSpace(strings.TrimLeft(line, "#")), system)
		case cronEnvLine.MatchString(line):
			m := cronEnvLine.FindStringSubmatch(line)
			env = append(env, EnvVar{Name: m[1], Value: unquote(strings.TrimSpace(m[2])), Line: n})
			comment = ""
		default:
			job, err := parseJob(file, n, line, system)
			if err != nil {
				return nil, err
			}
			job.Env = append([]EnvVar(nil), env...)
			job.Comment = comment
			tab.Jobs = append(tab.Jobs, job)
			comment = ""
		}
	}
	if err := sc.Err(); err != nil {
		return nil, positionError(file, n+1, "%v", err)
	}
	return tab, nil
}

// commentName keeps a comment that can name the next job: not a commented-out job,
// not a marker that tools such as whenever write around their block.
func commentName(text string, system bool) string {
	if text == "" || strings.HasPrefix(text, "Begin Whenever") || strings.HasPrefix(text, "End Whenever") {
		return ""
	}
	if _, err := parseJob("", 0, text, system); err == nil {
		return ""
	}
	return text
}

func parseJob(file string, n int, line string, system bool) (Job, error) {
	job := Job{Line: n}
	timeFields := 5
	if strings.HasPrefix(line, "@") {
		timeFields = 1
	}
	fields, rest := splitFields(line, timeFields)
	if len(fields) < timeFields {
		return job, positionError(file, n, "want %d time fields and a command, got %d fields", timeFields, len(fields))
	}
	job.Schedule = strings.Join(fields, " ")
	if _, err := cronexpr.FromClassic(job.Schedule); err != nil && !mapsLater(err) {
		return job, positionError(file, n, "%v", err)
	}
	if system {
		user, cmd := splitFields(rest, 1)
		if len(user) == 0 || !cronUser.MatchString(user[0]) {
			return job, positionError(file, n, "no user column before the command (a user crontab? then leave out --system)")
		}
		job.User, rest = user[0], cmd
	}
	if rest == "" {
		return job, positionError(file, n, "the schedule has no command")
	}
	job.Command, job.Stdin, job.HasStdin = splitPercent(rest)
	if strings.TrimSpace(job.Command) == "" {
		return job, positionError(file, n, "the schedule has no command")
	}
	return job, nil
}

// mapsLater says a schedule is cron's but has no CronJob equivalent, or is another
// scheduler's: CronJobs reports such entries and maps the rest.
func mapsLater(err error) bool {
	return errors.Is(err, cronexpr.ErrReboot) || errors.Is(err, cronexpr.ErrDayMatching) || errors.Is(err, cronexpr.ErrNotCron)
}

// splitFields takes n whitespace-separated fields off the front of s and returns them
// and the rest, which keeps its inner spacing.
func splitFields(s string, n int) ([]string, string) {
	var fields []string
	rest := strings.TrimLeft(s, " \t")
	for len(fields) < n && rest != "" {
		end := strings.IndexAny(rest, " \t")
		if end < 0 {
			end = len(rest)
		}
		fields = append(fields, rest[:end])
		rest = strings.TrimLeft(rest[end:], " \t")
	}
	return fields, rest
}

// splitPercent applies cron's rule for %: the first unescaped one ends the command and
// starts its standard input, later ones are newlines; \% is a literal %.
func splitPercent(s string) (cmd, stdin string, hasStdin bool) {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '%':
			out.WriteByte('%')
			i++
		case s[i] == '%' && !hasStdin:
			cmd, hasStdin = out.String(), true
			out.Reset()
		case s[i] == '%':
			out.WriteByte('\n')
		default:
			out.WriteByte(s[i])
		}
	}
	if !hasStdin {
		return out.String(), "", false
	}
	return cmd, out.String(), true
}

// unquote strips one pair of matching quotes, as cron does for variable values.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
