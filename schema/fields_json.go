package schema

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// UnmarshalJSON reads a Splunk result object: each value a string, a number,
// a boolean, null, or an array of those (multivalue). Nested objects are an
// error naming the field.
func (f *Fields) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		return nil // JSON null: no-op, as encoding/json does for maps
	}
	out := make(Fields, len(raw))
	for k, v := range raw {
		vals, err := jsonValues(v)
		if err != nil {
			return &RowError{Field: k, Reason: err.Error()}
		}
		out[k] = vals
	}
	*f = out
	return nil
}

func jsonValues(v json.RawMessage) ([]string, error) {
	if len(v) == 0 {
		return nil, nil
	}
	switch v[0] {
	case '[':
		var arr []json.RawMessage
		if err := json.Unmarshal(v, &arr); err != nil {
			return nil, err
		}
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			s, ok, err := jsonScalar(e)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, s)
			}
		}
		return out, nil
	default:
		s, ok, err := jsonScalar(v)
		if err != nil || !ok {
			return nil, err
		}
		return []string{s}, nil
	}
}

func jsonScalar(v json.RawMessage) (string, bool, error) {
	switch v[0] {
	case '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err == nil, err
	case 'n':
		return "", false, nil
	case 't', 'f':
		var b bool
		err := json.Unmarshal(v, &b)
		return strconv.FormatBool(b), err == nil, err
	case '{', '[':
		return "", false, fmt.Errorf("nested %s where a string is expected", map[byte]string{'{': "object", '[': "array"}[v[0]])
	default:
		var n json.Number
		err := json.Unmarshal(v, &n)
		return n.String(), err == nil, err
	}
}
