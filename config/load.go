package config

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"
)

// EnvPrefix starts every environment variable that sets a key.
const EnvPrefix = "FLUXHUNT_"

// envExempt are FLUXHUNT_ variables that are not configuration keys.
var envExempt = []string{"FLUXHUNT_REQUIRE_ALL_TESTS", "FLUXHUNT_TEST_"}

// Error is a configuration error: the source (file, environment variable or
// flag), the key, and what was wrong. Its text never holds a secret value.
type Error struct {
	Source string // "fluxhunt.yaml", "env FLUXHUNT_X", "flag --x", "" for the merged result
	Key    string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString("key ")
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Options says where Load reads from.
type Options struct {
	File      string            // YAML file; empty for none
	Environ   []string          // os.Environ(); nil for none
	Overrides map[string]string // key -> value, from flags (highest precedence)
}

// Result is a loaded configuration and the warnings it deserves
// (insecure_skip_verify and such), which the caller logs.
type Result struct {
	Config   Config
	Warnings []string
}

// Load reads defaults < file < environment < overrides, rejects unknown
// keys, and validates. No network is touched; files named by *_file keys are
// read.
func Load(opts Options) (*Result, error) {
	cfg := Default()
	fields := fieldMap(&cfg)
	if opts.File != "" {
		b, err := os.ReadFile(opts.File)
		if err != nil {
			return nil, &Error{Msg: fmt.Sprintf("read config file: %v", err)}
		}
		if err := applyYAML(b, opts.File, fields); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(opts.Environ, fields); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(opts.Overrides))
	for k := range opts.Overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, ok := fields[k]
		if !ok {
			return nil, &Error{Source: "flag", Key: k, Msg: "unknown key" + suggest(k, fields)}
		}
		if err := setString(f, opts.Overrides[k]); err != nil {
			return nil, &Error{Source: "flag", Key: k, Msg: err.Error()}
		}
	}
	warnings, err := cfg.finish()
	if err != nil {
		return nil, err
	}
	return &Result{Config: cfg, Warnings: warnings}, nil
}

// LoadFile is Load with the file and the process environment.
func LoadFile(path string) (*Result, error) {
	return Load(Options{File: path, Environ: os.Environ()})
}

func applyYAML(b []byte, name string, fields map[string]reflect.Value) error {
	k := koanf.New(".")
	if err := k.Load(rawbytes.Provider(b), yaml.Parser()); err != nil {
		return &Error{Source: name, Msg: fmt.Sprintf("not valid YAML: %v", err)}
	}
	all := k.All()
	keys := make([]string, 0, len(all))
	for key := range all {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		f, ok := fields[key]
		if !ok {
			return &Error{Source: name, Key: key, Msg: "unknown key" + suggest(key, fields)}
		}
		if err := setAny(f, all[key]); err != nil {
			return &Error{Source: name, Key: key, Msg: err.Error()}
		}
	}
	return nil
}

func applyEnv(environ []string, fields map[string]reflect.Value) error {
	sorted := append([]string(nil), environ...)
	sort.Strings(sorted)
	for _, kv := range sorted {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		exempt := false
		for _, e := range envExempt {
			if name == e || (strings.HasSuffix(e, "_") && strings.HasPrefix(name, e)) {
				exempt = true
			}
		}
		if exempt {
			continue
		}
		key := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, EnvPrefix), "__", "."))
		src := "env " + name
		f, ok := fields[key]
		if !ok {
			return &Error{Source: src, Key: key, Msg: "unknown key" + suggest(key, fields)}
		}
		if err := setString(f, val); err != nil {
			return &Error{Source: src, Key: key, Msg: err.Error()}
		}
	}
	return nil
}

// Keys lists every configuration key, sorted.
func Keys() []string {
	c := Default()
	m := fieldMap(&c)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// fieldMap maps every dotted key to its settable field.
func fieldMap(c *Config) map[string]reflect.Value {
	m := map[string]reflect.Value{}
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("koanf")
			fv := v.Field(i)
			if tag == ",squash" {
				walk(fv, prefix)
				continue
			}
			if tag == "" {
				continue
			}
			key := prefix + tag
			if fv.Kind() == reflect.Struct && !reflect.PointerTo(fv.Type()).Implements(textUnmarshaler) {
				walk(fv, key+".")
				continue
			}
			m[key] = fv
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
	return m
}

func suggest(key string, fields map[string]reflect.Value) string {
	// The deepest known section that holds the key, and its children.
	parts := strings.Split(key, ".")
	for depth := len(parts) - 1; depth >= 0; depth-- {
		parent := strings.Join(parts[:depth], ".")
		prefix := parent
		if prefix != "" {
			prefix += "."
		}
		seen := map[string]bool{}
		var near []string
		for k := range fields {
			if !strings.HasPrefix(k, prefix) {
				continue
			}
			child, _, _ := strings.Cut(k[len(prefix):], ".")
			if !seen[child] {
				seen[child] = true
				near = append(near, child)
			}
		}
		if len(near) == 0 {
			continue
		}
		sort.Strings(near)
		where := parent
		if where == "" {
			where = "top level"
		}
		return fmt.Sprintf(" (keys under %s: %s)", where, strings.Join(near, ", "))
	}
	return ""
}

func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case []any:
		return "", errors.New("got a list, want a single value")
	case map[string]any:
		return "", errors.New("got a mapping, want a single value")
	}
	return "", fmt.Errorf("unsupported value of type %T", v)
}

func setAny(f reflect.Value, v any) error {
	if f.Kind() == reflect.Slice {
		list, ok := v.([]any)
		if !ok {
			s, err := scalarString(v)
			if err != nil {
				return err
			}
			return setString(f, s)
		}
		out := reflect.MakeSlice(f.Type(), 0, len(list))
		for i, e := range list {
			s, err := scalarString(e)
			if err != nil {
				return fmt.Errorf("item %d: %v", i, err)
			}
			ev := reflect.New(f.Type().Elem()).Elem()
			if err := setString(ev, s); err != nil {
				return fmt.Errorf("item %d: %v", i, err)
			}
			out = reflect.Append(out, ev)
		}
		f.Set(out)
		return nil
	}
	s, err := scalarString(v)
	if err != nil {
		return err
	}
	return setString(f, s)
}

// setString parses s into f by f's type. Lists are comma-separated.
func setString(f reflect.Value, s string) error {
	if f.CanAddr() && f.Addr().Type().Implements(textUnmarshaler) {
		return f.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(strings.TrimSpace(s))
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("invalid boolean %q: want true or false", s)
		}
		f.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("invalid integer %q: want a whole number", s)
		}
		f.SetInt(int64(n))
	case reflect.Float64:
		n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("invalid number %q", s)
		}
		f.SetFloat(n)
	case reflect.Slice:
		out := reflect.MakeSlice(f.Type(), 0, 4)
		if strings.TrimSpace(s) != "" {
			for i, part := range strings.Split(s, ",") {
				ev := reflect.New(f.Type().Elem()).Elem()
				if err := setString(ev, strings.TrimSpace(part)); err != nil {
					return fmt.Errorf("item %d: %v", i, err)
				}
				out = reflect.Append(out, ev)
			}
		}
		f.Set(out)
	default:
		return fmt.Errorf("unsupported field type %s", f.Type())
	}
	return nil
}
