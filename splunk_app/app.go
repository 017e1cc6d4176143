package splunkapp

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// App is the parsed app directory.
type App struct {
	Dir   string
	Confs map[string]*Conf // "props" for default/props.conf, "default.meta" for metadata/default.meta
	Views map[string]*View // by view name
}

// LoadApp parses every .conf in dir/default, metadata/default.meta and the
// Dashboard Studio views. It returns what parsed along with all errors.
func LoadApp(dir string) (*App, error) {
	a := &App{Dir: dir, Confs: map[string]*Conf{}, Views: map[string]*View{}}
	var errs []error
	confs, _ := filepath.Glob(filepath.Join(dir, "default", "*.conf"))
	confs = append(confs, filepath.Join(dir, "metadata", "default.meta"))
	for _, p := range confs {
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rel, _ := filepath.Rel(dir, p)
		c, err := ParseConf(rel, bytes.NewReader(b))
		if err != nil {
			errs = append(errs, err)
		}
		name := strings.TrimSuffix(filepath.Base(p), ".conf")
		a.Confs[name] = c
	}
	views, _ := filepath.Glob(filepath.Join(dir, "default", "data", "ui", "views", "*.xml"))
	for _, p := range views {
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rel, _ := filepath.Rel(dir, p)
		v, err := ParseView(rel, b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.Views[strings.TrimSuffix(filepath.Base(p), ".xml")] = v
	}
	return a, errors.Join(errs...)
}

// Conf returns a parsed conf, or an empty one.
func (a *App) Conf(name string) *Conf {
	if c, ok := a.Confs[name]; ok {
		return c
	}
	return &Conf{Name: name, byName: map[string]*Stanza{}}
}

// Lookups returns each lookup of transforms.conf with its columns: the CSV
// header for file lookups, fields_list for KV store lookups (checked
// against collections.conf).
func (a *App) Lookups() (map[string][]string, error) {
	out := map[string][]string{}
	var errs []error
	coll := a.Conf("collections")
	for _, s := range a.Conf("transforms").Stanzas {
		if file, ok := s.Get("filename"); ok {
			p := filepath.Join(a.Dir, "lookups", file)
			f, err := os.Open(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("transforms.conf [%s]: lookup file: %w", s.Name, err))
				continue
			}
			header, err := csv.NewReader(f).Read()
			f.Close()
			if err != nil {
				errs = append(errs, fmt.Errorf("lookups/%s: header: %w", file, err))
				continue
			}
			out[s.Name] = header
			continue
		}
		if typ, _ := s.Get("external_type"); typ == "kvstore" {
			name, _ := s.Get("collection")
			cs := coll.Stanza(name)
			if cs == nil {
				errs = append(errs, fmt.Errorf("transforms.conf [%s]: collection %q is not in collections.conf", s.Name, name))
				continue
			}
			list, _ := s.Get("fields_list")
			var cols []string
			for _, c := range strings.Split(list, ",") {
				c = strings.TrimSpace(c)
				if c == "" {
					continue
				}
				if _, ok := cs.Get("field." + c); !ok && c != "_key" {
					errs = append(errs, fmt.Errorf("transforms.conf [%s]: field %q has no field.%s in collections.conf [%s]", s.Name, c, c, name))
				}
				cols = append(cols, c)
			}
			out[s.Name] = cols
		}
	}
	return out, errors.Join(errs...)
}

// Macros returns macro name to definition.
func (a *App) Macros() map[string]string {
	out := map[string]string{}
	for _, s := range a.Conf("macros").Stanzas {
		d, _ := s.Get("definition")
		out[s.Name] = d
	}
	return out
}

// Eventtypes returns eventtype name to search.
func (a *App) Eventtypes() map[string]string {
	out := map[string]string{}
	for _, s := range a.Conf("eventtypes").Stanzas {
		d, _ := s.Get("search")
		out[s.Name] = d
	}
	return out
}

// JSONFields lists the field names Splunk's automatic JSON extraction
// (KV_MODE = json) gives an event: nested objects as parent.child, arrays as
// name{} (arrays of objects as name{}.child).
func JSONFields(event []byte) (FieldSet, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("event is not a JSON object")
	}
	out := FieldSet{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(join(prefix, k), c)
			}
		case []any:
			for _, c := range x {
				walk(prefix+"{}", c)
			}
			if len(x) == 0 {
				out[prefix+"{}"] = true
			}
		default:
			out[prefix] = true
		}
	}
	for k, c := range obj {
		walk(k, c)
	}
	return out, nil
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

var aliasRE = regexp.MustCompile(`(?i)("[^"]+"|\S+)\s+(AS|ASNEW)\s+("[^"]+"|\S+)`)

// ApplyProps adds the search-time fields a props.conf stanza derives
// (FIELDALIAS-*, EVAL-*) to fields, in Splunk's order (aliases, then evals).
// An alias of a field the events lack, or an EVAL reading one, is an error.
func ApplyProps(fields FieldSet, s *Stanza) (FieldSet, error) {
	out := fields.clone()
	var errs []error
	keys := append([]string(nil), s.Keys...)
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, "FIELDALIAS-") {
			continue
		}
		v, _ := s.Value(k)
		pairs := aliasRE.FindAllStringSubmatch(v.Text, -1)
		if len(pairs) == 0 {
			errs = append(errs, fmt.Errorf("props.conf [%s] %s (line %d): no \"field AS alias\" pair", s.Name, k, v.Line))
		}
		for _, p := range pairs {
			from, to := strings.Trim(p[1], `"`), strings.Trim(p[3], `"`)
			if !fields[from] {
				errs = append(errs, fmt.Errorf("props.conf [%s] %s (line %d): aliases %q, which the events do not have", s.Name, k, v.Line, from))
			}
			out[to] = true
		}
	}
	// EVALs see the event's fields and the aliases, not each other's results.
	base := out.clone()
	for _, k := range keys {
		name, ok := strings.CutPrefix(k, "EVAL-")
		if !ok {
			continue
		}
		v, _ := s.Value(k)
		toks, err := tokenize(v.Text)
		if err != nil {
			errs = append(errs, fmt.Errorf("props.conf [%s] %s (line %d): %w", s.Name, k, v.Line, err))
			continue
		}
		for _, r := range exprRefs(toks) {
			if !base[r] && !builtinFields[r] {
				errs = append(errs, fmt.Errorf("props.conf [%s] %s (line %d): reads %q, which the events do not have", s.Name, k, v.Line, r))
			}
		}
		out[name] = true
	}
	return out, errors.Join(errs...)
}

// Walk lists the files of the app (for tests that look at all of them).
func (a *App) Walk(fn func(rel string, d fs.DirEntry) error) error {
	return filepath.WalkDir(a.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(a.Dir, p)
		return fn(rel, d)
	})
}
