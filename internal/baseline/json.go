package baseline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// ParseJSON reads a JSON export: an array of objects, or an object whose
// "endpoints" (or "transactions") holds that array. Objects use the CSV's column
// names as keys ("endpoint", "mean_ms", "p99_ms", …); values are numbers or strings.
func ParseJSON(data []byte) (*Baseline, error) {
	var rows []map[string]any
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("[")) {
		if err := json.Unmarshal(trimmed, &rows); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
	} else {
		var doc struct {
			Endpoints    []map[string]any `json:"endpoints"`
			Transactions []map[string]any `json:"transactions"`
		}
		if err := json.Unmarshal(trimmed, &doc); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		rows = append(doc.Endpoints, doc.Transactions...)
	}
	if len(rows) == 0 {
		return nil, ErrNoRecord
	}
	b := &Baseline{}
	for i, row := range rows {
		var e Endpoint
		for key, v := range row {
			field, unit := column(key)
			if field == "" {
				continue
			}
			if err := set(&e, field, text(v), unit); err != nil {
				return nil, fmt.Errorf("endpoint %d: %w", i+1, err)
			}
		}
		if err := check(e, fmt.Sprintf("endpoint %d", i+1)); err != nil {
			return nil, err
		}
		b.Endpoints = append(b.Endpoints, e)
	}
	return b, nil
}

func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
