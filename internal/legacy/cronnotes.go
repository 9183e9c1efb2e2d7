package legacy

import (
	"fmt"
	"strconv"
	"strings"
)

// entryNote is a review note on one entry, with the words for several entries alike,
// so that a crontab of forty entries run as www-data gives one note, not forty.
type entryNote struct {
	line int
	// one is the note on a single entry.
	one string
	// group is the note on several, after "N entries": a plural verb phrase with one
	// %s for their details when detail is set. Entries with the same group are alike.
	group string
	// detail is what differs between entries alike, such as the file each writes to.
	detail string
}

// maxNoteDetails bounds how many details and lines one grouped note lists.
const maxNoteDetails = 6

// entryNotes are the review notes on what job's command and user may do differently
// in a pod.
func entryNotes(job Job) []entryNote {
	notes := append(commandNotes(job.Command), commandSecretNotes(job.Command)...)
	if job.User != "" && job.User != "root" {
		msg := fmt.Sprintf("ran as user %s: the container runs as its image's user (set securityContext.runAsUser if it matters)", job.User)
		notes = append(notes, entryNote{one: msg, group: msg})
	}
	for i := range notes {
		notes[i].line = job.Line
	}
	return notes
}

// groupNotes turns notes on entries into Review notes: one per note on a single
// entry, one per group of alike notes on several, at the first entry's line.
func groupNotes(file string, notes []entryNote) []Note {
	var order []string
	groups := map[string][]entryNote{}
	for _, n := range notes {
		if _, seen := groups[n.group]; !seen {
			order = append(order, n.group)
		}
		groups[n.group] = append(groups[n.group], n)
	}
	var out []Note
	for _, key := range order {
		g := groups[key]
		if len(g) == 1 {
			out = append(out, Note{File: file, Line: g[0].line, Kind: Review, Message: g[0].one})
			continue
		}
		var lines []int
		var details []string
		seen := map[string]bool{}
		for _, n := range g {
			if len(lines) == 0 || lines[len(lines)-1] != n.line {
				lines = append(lines, n.line)
			}
			if n.detail != "" && !seen[n.detail] {
				seen[n.detail] = true
				details = append(details, n.detail)
			}
		}
		msg := key
		if len(details) > 0 {
			msg = fmt.Sprintf(key, listFirst(details))
		}
		out = append(out, Note{File: file, Line: lines[0], Lines: lines, Kind: Review,
			Message: fmt.Sprintf("%d entries (lines %s) %s", len(g), lineRanges(lines), msg)})
	}
	return out
}

func listFirst(items []string) string {
	if len(items) <= maxNoteDetails {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:maxNoteDetails], ", ") + fmt.Sprintf(" and %d more", len(items)-maxNoteDetails)
}

// lineRanges writes ascending line numbers with ranges: 3, 5-9, 12.
func lineRanges(lines []int) string {
	var parts []string
	for i := 0; i < len(lines); {
		j := i
		for j+1 < len(lines) && lines[j+1] == lines[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(lines[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", lines[i], lines[j]))
		}
		i = j + 1
	}
	if len(parts) > maxNoteDetails {
		return strings.Join(parts[:maxNoteDetails], ", ") + fmt.Sprintf(" and %d more", len(parts)-maxNoteDetails)
	}
	return strings.Join(parts, ", ")
}
