package lint

import (
	"fmt"
	"strings"
)

// RulesMarkdown documents every rule for docs/lint-rules.md: a table, then what, why and how
// to fix each one.
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("| rule | severity | catches |\n| --- | --- | --- |\n")
	for _, r := range Rules() {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", r.ID, strings.ToLower(r.ID), r.Severity, r.Title)
	}
	for _, r := range Rules() {
		fmt.Fprintf(&b, "\n#### %s\n\n**%s** (%s). %s\n\n*Why:* %s\n\n*Fix:* %s\n", r.ID, r.Title, r.Severity, r.What, r.Why, r.Fix)
	}
	return b.String()
}
