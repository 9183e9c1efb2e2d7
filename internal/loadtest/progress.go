package loadtest

import (
	"fmt"
	"io"
	"strings"
	"time"
)

const (
	barWidth       = 24
	ttyRefresh     = 200 * time.Millisecond
	ttyLineMaxRune = 120
)

// showProgress writes the run's progress to w until done is closed: a bar redrawn in
// place on a terminal, a plain line every interval otherwise.
func showProgress(w io.Writer, tty bool, interval, planned time.Duration, sides []*sideRun, done <-chan struct{}) {
	start := time.Now()
	every := interval
	if tty {
		every = ttyRefresh
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-done:
			if tty {
				fmt.Fprintf(w, "\r%s\n", progressLine(time.Since(start), planned, sides, true))
			}
			return
		case <-tick.C:
			line := progressLine(time.Since(start), planned, sides, tty)
			if tty {
				fmt.Fprintf(w, "\r%s", line)
			} else {
				fmt.Fprintln(w, line)
			}
		}
	}
}

// progressLine renders elapsed time against the plan and each side's counts.
func progressLine(elapsed, planned time.Duration, sides []*sideRun, bar bool) string {
	frac := 1.0
	if planned > 0 {
		frac = min(elapsed.Seconds()/planned.Seconds(), 1)
	}
	var b strings.Builder
	if bar {
		filled := int(frac * barWidth)
		b.WriteString("[" + strings.Repeat("#", filled) + strings.Repeat(".", barWidth-filled) + "] ")
	}
	fmt.Fprintf(&b, "%3.0f%% %s/%s", 100*frac, elapsed.Round(time.Second), planned.Round(time.Second))
	for _, s := range sides {
		p := s.rec.progress()
		fmt.Fprintf(&b, "  %s %d req %d err p99 %.1fms", s.name, p.count, p.errors, p.p99)
	}
	line := b.String()
	if bar && len([]rune(line)) > ttyLineMaxRune {
		line = string([]rune(line)[:ttyLineMaxRune])
	}
	return line
}
