package lint

import "fmt"

// Severity ranks findings; ferry deploy refuses on Error.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Warning
	Error
)

var severityNames = [...]string{Info: "info", Warning: "warning", Error: "error"}

// String is the severity's name: error, warning or info.
func (s Severity) String() string {
	if s < Info || s > Error {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(text string) (Severity, error) {
	for i, name := range severityNames {
		if name == text {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q: use error, warning or info", text)
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(text []byte) error {
	v, err := ParseSeverity(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// sarifLevel is the SARIF 2.1.0 level of a severity.
func (s Severity) sarifLevel() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "note"
}
