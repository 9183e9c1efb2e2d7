package legacy

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// maxCronJobName is the longest CronJob name: its Jobs append 11 characters to it.
const maxCronJobName = 52

var (
	nonName      = regexp.MustCompile(`[^a-z0-9]+`)
	assignment   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	shellWrapper = regexp.MustCompile(`^\S*\b(ba|z|da)?sh\s+(-\w+\s+)*-c\s+(['"])(.*)['"]\s*$`)
	shellJoiner  = regexp.MustCompile(`&&|\|\||;|\|`)
)

// wrappers are programs that run the command named after them.
var wrappers = map[string]int{ // program → how many arguments of its own to skip
	"bundle": 0, "exec": 0, "nice": 0, "nohup": 0, "env": 0, "time": 0, "ionice": 0,
	"timeout": 1, "flock": 1, "chronic": 0, "sudo": 0,
}

// nameKind says how much a name derived from a command tells.
type nameKind int

const (
	// programName is a program that could run anything (curl, mysqldump, php -r).
	programName nameKind = iota
	// scriptName is a script the job runs (cleanup.sh, send_mail.php).
	scriptName
	// taskName is a task of a task runner (artisan, bin/console, rake, rails runner).
	taskName
)

// jobName names a job after what it does: the task of a task runner (php artisan
// payroll:close-day → payroll-close-day, bin/console app:reindex, rake reports:daily,
// rails runner 'Payroll.close_day') or the script it runs; else after the comment
// right above it; else after its program; else "job".
func jobName(job Job) string {
	name, kind := commandName(job.Command)
	if n := slug(name); n != "" && kind >= scriptName {
		return n
	}
	if comment := strings.TrimSpace(strings.TrimPrefix(job.Comment, "Ansible:")); comment != "" && !strings.Contains(comment, "dom mon dow") {
		if n := slug(comment); n != "" {
			return n
		}
	}
	if n := slug(name); n != "" {
		return n
	}
	return "job"
}

// commandName is the most telling word of a command: `cd /app && bundle exec rake
// invoices:nightly >> log 2>&1` gives invoices:nightly, a task.
func commandName(cmd string) (string, nameKind) {
	if m := shellWrapper.FindStringSubmatch(strings.TrimSpace(cmd)); m != nil {
		return commandName(m[4])
	}
	for _, segment := range shellJoiner.Split(cmd, -1) {
		words := strings.Fields(segment)
		for len(words) > 0 && assignment.MatchString(words[0]) {
			words = words[1:]
		}
		if len(words) == 0 {
			continue
		}
		switch words[0] {
		case "cd", "export", "source", ".", "test", "[", "set", "umask", "[[", "true":
			continue
		}
		return programTask(words)
	}
	return "", programName
}

// valueFlags are the options of wrappers, interpreters and task runners that take a value.
var valueFlags = map[string]map[string]bool{
	"sudo": {"-u": true, "-g": true}, "nice": {"-n": true}, "ionice": {"-c": true, "-n": true},
	"flock": {"-w": true, "-E": true}, "rails": {"-e": true, "--environment": true},
	"php": {"-d": true, "-c": true}, "ruby": {"-r": true, "-I": true}, "rake": {"-f": true, "-R": true},
	"console": {"-e": true, "--env": true}, "drush": {"-r": true, "--root": true, "-l": true, "--uri": true},
}

var (
	// versioned matches interpreters named with their version: php8.2, python3.11, php-cli.
	versioned = regexp.MustCompile(`^(php|python|ruby|node|perl)[0-9.]*(-cli)?$`)
	// taskRunners are programs whose first argument is the task they run.
	taskRunners = map[string]bool{"rake": true, "artisan": true, "console": true, "drush": true, "wp": true, "manage.py": true, "rails": true}
	// interpreters run the script named first, or a task runner given as a script.
	interpreters = map[string]bool{"php": true, "python": true, "ruby": true, "node": true, "perl": true, "bash": true, "sh": true}
)

// programTask picks the task or script out of a program's words, skipping wrappers
// and options.
func programTask(words []string) (string, nameKind) {
	skipOptions := func(prog string, words []string) []string {
		for len(words) > 0 && strings.HasPrefix(words[0], "-") {
			if valueFlags[prog][words[0]] && len(words) > 1 {
				words = words[1:]
			}
			words = words[1:]
		}
		return words
	}
	for len(words) > 0 {
		prog := path.Base(words[0])
		skip, wrapper := wrappers[prog]
		if !wrapper {
			break
		}
		words = skipOptions(prog, words[1:])
		if skip > 0 && len(words) > skip {
			words = words[skip:]
		}
	}
	if len(words) == 0 {
		return "", programName
	}
	prog := program(words[0])
	args := skipOptions(prog, words[1:])
	if interpreters[prog] && len(args) > 0 && !strings.HasPrefix(args[0], ">") {
		script := program(args[0])
		if !taskRunners[script] && !(script == "index.php" && len(args) > 1) {
			return trimExt(script), scriptName
		}
		prog, args = script, skipOptions(script, args[1:])
	}
	switch {
	case taskRunners[prog] || prog == "index.php":
		for ; len(args) > 0; args = skipOptions(prog, args[1:]) {
			w := strings.Trim(args[0], `'"`)
			switch {
			case strings.HasPrefix(w, ">"):
				return prog, programName
			case w == "runner" || assignment.MatchString(w):
				continue
			}
			if strings.Contains(w, "/") { // rails runner script/close_day.rb
				return trimExt(path.Base(w)), scriptName
			}
			w, _, _ = strings.Cut(w, "(") // rails runner 'Payroll.close_day(Date.today)'
			return trimExt(w), taskName
		}
		return prog, programName
	case strings.Contains(words[0], "/") || strings.Contains(prog, "."):
		return trimExt(prog), scriptName
	}
	return trimExt(prog), programName
}

// program is the name of a program as run: /usr/bin/php8.2 → php.
func program(word string) string {
	base := path.Base(strings.Trim(word, `'"`))
	if m := versioned.FindStringSubmatch(base); m != nil {
		return m[1]
	}
	return base
}

func trimExt(s string) string {
	for _, ext := range []string{".php", ".rb", ".sh", ".py", ".pl", ".js", ".bash"} {
		s = strings.TrimSuffix(s, ext)
	}
	return s
}

// slug makes a DNS label of at most 40 characters out of text, cut at a word.
func slug(text string) string {
	s := strings.Trim(nonName.ReplaceAllString(strings.ToLower(text), "-"), "-")
	if len(s) > 40 {
		s = s[:40]
		if i := strings.LastIndex(s, "-"); i > 10 {
			s = s[:i]
		}
	}
	return strings.Trim(s, "-")
}

// uniqueName prefixes name and numbers it when taken, within maxCronJobName.
func uniqueName(taken map[string]bool, prefix, name string) string {
	base := name
	if prefix != "" {
		base = strings.Trim(slug(prefix)+"-"+name, "-")
	}
	fit := func(s string, room int) string { return strings.TrimRight(s[:min(len(s), room)], "-") }
	out := fit(base, maxCronJobName)
	for i := 2; taken[out]; i++ {
		suffix := "-" + strconv.Itoa(i)
		out = fit(base, maxCronJobName-len(suffix)) + suffix
	}
	taken[out] = true
	return out
}
