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

// jobName names a job after the comment right above it, else after what its command
// runs (a rake or artisan task, a script), else "job".
func jobName(job Job) string {
	if job.Comment != "" && !strings.Contains(job.Comment, "dom mon dow") {
		if n := slug(job.Comment); n != "" {
			return n
		}
	}
	if n := slug(commandName(job.Command)); n != "" {
		return n
	}
	return "job"
}

// commandName is the most telling word of a command: `cd /app && bundle exec rake
// invoices:nightly >> log 2>&1` gives invoices:nightly.
func commandName(cmd string) string {
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
		case "cd", "export", "source", ".", "test", "[", "set", "umask":
			continue
		}
		return programTask(words)
	}
	return ""
}

// valueFlags are the options of wrappers and task runners that take a value.
var valueFlags = map[string]map[string]bool{
	"sudo": {"-u": true, "-g": true}, "nice": {"-n": true}, "ionice": {"-c": true, "-n": true},
	"flock": {"-w": true, "-E": true}, "rails": {"-e": true, "--environment": true},
}

// programTask picks the task out of a program's words, skipping wrappers and options.
func programTask(words []string) string {
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
		return ""
	}
	prog := path.Base(words[0])
	switch prog {
	case "rake", "rails", "artisan", "php", "ruby", "python", "python3", "node", "perl", "console", "drush", "wp":
		for args := skipOptions(prog, words[1:]); len(args) > 0; args = skipOptions(prog, args[1:]) {
			switch w := args[0]; {
			case strings.HasPrefix(w, ">"):
				return trimExt(prog)
			case w == "runner" || w == "artisan" || w == "bin/console":
				continue
			default:
				return trimExt(path.Base(strings.Trim(w, `'"`)))
			}
		}
	}
	return trimExt(prog)
}

func trimExt(s string) string {
	for _, ext := range []string{".php", ".rb", ".sh", ".py", ".pl", ".js"} {
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
	if len(base) > maxCronJobName-3 {
		base = strings.Trim(base[:maxCronJobName-3], "-")
	}
	out := base
	for i := 2; taken[out]; i++ {
		out = base + "-" + strconv.Itoa(i)
	}
	taken[out] = true
	return out
}
