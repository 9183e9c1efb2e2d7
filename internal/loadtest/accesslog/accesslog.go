package accesslog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Format names an access-log format.
type Format string

// The formats Read understands.
const (
	// Auto detects the format from the first line that parses.
	Auto Format = "auto"
	// Combined is the nginx/Apache "combined" format; its prefix, Apache's "common"
	// format, parses too.
	Combined Format = "combined"
	// ALB is the AWS Application Load Balancer access-log format.
	ALB Format = "alb"
)

// Sentinel errors; match them with errors.Is.
var (
	ErrUnknownFormat = errors.New("unknown access-log format")
	ErrNoRequests    = errors.New("no requests found")
	ErrMalformed     = errors.New("malformed line")
)

// maxLine bounds one log line; ALB lines with long URLs reach a few KiB.
const maxLine = 1 << 20

// Entry is one request of an access log.
type Entry struct {
	// Time is when the request was logged.
	Time time.Time
	// Method is the HTTP method, upper case.
	Method string
	// URI is the request's path and query, starting with "/".
	URI string
	// Status is the status code the server answered with.
	Status int
}

// Log is what Read found in an access log.
type Log struct {
	// Format is the format the log was read as.
	Format Format
	// Entries are the requests, in file order.
	Entries []Entry
	// Skipped counts non-blank lines that did not parse (scanner noise, truncated lines).
	Skipped int
}

// ParseFormat checks a format name given by a user.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case Auto, Combined, ALB:
		return f, nil
	case "nginx", "apache", "common":
		return Combined, nil
	}
	return "", fmt.Errorf("%w %q: use auto, combined (nginx, apache) or alb", ErrUnknownFormat, s)
}

// Read parses an access log of the given format. A log where most lines do not
// parse is refused: it is most likely in another format.
func Read(r io.Reader, format Format) (*Log, error) {
	log := &Log{Format: format}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if log.Format == Auto {
			f, err := Detect(line)
			if err != nil {
				log.Skipped++
				if log.Skipped > 10 {
					return nil, fmt.Errorf("%w: the first lines are neither combined nor alb", ErrUnknownFormat)
				}
				continue
			}
			log.Format = f
		}
		e, err := ParseLine(log.Format, line)
		if err != nil {
			log.Skipped++
			continue
		}
		log.Entries = append(log.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read access log: %w", err)
	}
	switch {
	case len(log.Entries) == 0 && log.Skipped > 0:
		return nil, fmt.Errorf("%w: none of %d lines parse as %s", ErrUnknownFormat, log.Skipped, log.Format)
	case len(log.Entries) == 0:
		return nil, ErrNoRequests
	case log.Skipped > len(log.Entries):
		return nil, fmt.Errorf("%w: %d of %d lines do not parse as %s", ErrUnknownFormat,
			log.Skipped, log.Skipped+len(log.Entries), log.Format)
	}
	return log, nil
}

// Detect tells the format of one log line.
func Detect(line string) (Format, error) {
	if _, err := ParseALB(line); err == nil {
		return ALB, nil
	}
	if _, err := ParseCombined(line); err == nil {
		return Combined, nil
	}
	return "", ErrUnknownFormat
}

// ParseLine parses one line of a known format.
func ParseLine(format Format, line string) (Entry, error) {
	switch format {
	case Combined:
		return ParseCombined(line)
	case ALB:
		return ParseALB(line)
	}
	return Entry{}, fmt.Errorf("%w %q", ErrUnknownFormat, format)
}
