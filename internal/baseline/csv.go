package baseline

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"time"
)

// ParseCSV reads a CSV export with a header row. It needs an endpoint column
// ("endpoint", "name", "transaction", "path"…) and at least one of mean, p95, p99,
// max; a method column is optional (the endpoint may also read "GET /users/:id").
// Plain numbers are milliseconds unless the header says otherwise (p99_us, max_s).
func ParseCSV(data []byte) (*Baseline, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: no csv header", ErrFormat)
	}
	fields := make([]string, len(header))
	unitsOf := make([]time.Duration, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		fields[i], unitsOf[i] = column(h)
		seen[fields[i]] = true
	}
	if !seen["endpoint"] {
		return nil, fmt.Errorf("%w: endpoint (header %v)", ErrColumn, header)
	}
	if !seen["mean"] && !seen["p95"] && !seen["p99"] && !seen["max"] {
		return nil, fmt.Errorf("%w: mean, p95, p99 or max (header %v)", ErrColumn, header)
	}
	b := &Baseline{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		var e Endpoint
		for i, v := range rec {
			if i < len(fields) {
				if err := set(&e, fields[i], v, unitsOf[i]); err != nil {
					return nil, fmt.Errorf("line %d: %w", line, err)
				}
			}
		}
		if err := check(e, fmt.Sprintf("line %d", line)); err != nil {
			return nil, err
		}
		b.Endpoints = append(b.Endpoints, e)
	}
	if len(b.Endpoints) == 0 {
		return nil, ErrNoRecord
	}
	return b, nil
}
