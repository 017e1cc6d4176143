package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/fluxhunt/fluxhunt/connector/hec"
	"github.com/fluxhunt/fluxhunt/schema"
)

// cmdHEC dispatches `fluxhunt hec SUBCOMMAND`.
func cmdHEC(ctx context.Context, e *env) int {
	if len(e.args) == 0 || e.args[0] != "send" {
		fmt.Fprintln(e.stderr, "usage: fluxhunt hec send [--config FILE] [--timeout D] [FILE...]")
		if len(e.args) > 0 && (e.args[0] == "-h" || e.args[0] == "--help") {
			return exitOK
		}
		return exitConfig
	}
	sub := *e
	sub.args = e.args[1:]
	return cmdHECSend(ctx, &sub)
}

// cmdHECSend sends JSON events (one a line; an envelope with "event", or a
// bare event) through the spool and writer, the path detections take.
// Dead-letter files replay as they are.
func cmdHECSend(ctx context.Context, e *env) int {
	fs := newFlagSet(e, "hec send", "[--config FILE] [--timeout D] [FILE...]")
	file := fs.String("config", "", "configuration file (YAML)")
	timeout := fs.Duration("timeout", 2*time.Minute, "time allowed for HEC to take everything; the rest stays in the spool")
	if rc := parseFlags(fs, e.args); rc >= 0 {
		return rc
	}
	boot := newLogger(e.stderr, "warn", "text")
	cfg := loadConfig(e, *file, nil, boot)
	if cfg == nil {
		return exitConfig
	}
	if err := cfg.NeedHEC(); err != nil {
		fmt.Fprintf(e.stderr, "fluxhunt hec send: %v\n", err)
		return exitConfig
	}
	log := newLogger(e.stderr, cfg.Log.Level, cfg.Log.Format)
	w, err := hec.New(hec.Options{HEC: cfg.Splunk.HEC, Spool: cfg.Splunk.Spool, StateDir: cfg.StateDir, Instance: cfg.Instance, Logger: log})
	if err != nil {
		fmt.Fprintf(e.stderr, "fluxhunt hec send: %v\n", err)
		return exitConfig
	}
	if err := w.Start(ctx); err != nil {
		fmt.Fprintf(e.stderr, "fluxhunt hec send: %v\n", err)
		return exitFail
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	var lines, bad int
	failed := false
	rc := exitOK
	for _, in := range inputs {
		var r io.Reader
		name := in
		if in == "-" {
			r, name = e.stdin, "stdin"
		} else {
			f, err := os.Open(in)
			if err != nil {
				fmt.Fprintf(e.stderr, "fluxhunt hec send: %v\n", err)
				rc = exitConfig
				continue
			}
			defer f.Close()
			r = f
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<30)
		var batch []schema.Envelope
		flush := func() {
			if len(batch) == 0 {
				return
			}
			if err := w.SendBatch(ctx, batch); err != nil {
				fmt.Fprintf(e.stderr, "fluxhunt hec send: %s: %v\n", name, err)
				if !errors.Is(err, hec.ErrEventTooLarge) && !errors.Is(err, hec.ErrInvalidEvent) {
					failed = true
				}
			}
			batch = batch[:0]
		}
		for ln := 1; sc.Scan(); ln++ {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			lines++
			env, err := parseSendLine(line)
			if err != nil {
				fmt.Fprintf(e.stderr, "fluxhunt hec send: %s:%d: %v\n", name, ln, err)
				bad++
				continue
			}
			batch = append(batch, env)
			if len(batch) == 500 {
				flush()
			}
		}
		flush()
		if err := sc.Err(); err != nil {
			fmt.Fprintf(e.stderr, "fluxhunt hec send: %s: %v\n", name, err)
			rc = exitConfig
		}
	}
	fctx, cancel := context.WithTimeout(ctx, *timeout)
	ferr := w.Flush(fctx)
	cancel()
	st := w.Stats()
	sctx, cancel2 := context.WithTimeout(context.Background(), time.Second)
	_ = w.Shutdown(sctx)
	cancel2()
	fmt.Fprintf(e.stdout, "hec send: %d lines, %d invalid, %d spooled, %d delivered, %d dead-lettered, %d left in the spool\n",
		lines, bad, st.Spooled, st.Delivered, st.DeadLettered, st.SpoolEvents)
	if ferr != nil {
		fmt.Fprintf(e.stderr, "fluxhunt hec send: HEC did not take everything within %s (the spool keeps the rest for the next run): %s\n", *timeout, st.Status)
	}
	if rc == exitOK && (ferr != nil || failed || bad > 0 || st.DeadLettered > 0) {
		rc = exitFail
	}
	return rc
}

// envelopeKeys are the members an HEC envelope may have (plus the
// writer's "dead_letter" annotation, dropped on replay).
var envelopeKeys = map[string]bool{"time": true, "host": true, "source": true, "sourcetype": true,
	"index": true, "event": true, "fields": true, "dead_letter": true}

// parseSendLine reads one input line: an object with "event" and only
// envelope members is an envelope; anything else is a bare event.
func parseSendLine(line []byte) (schema.Envelope, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return schema.Envelope{}, fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return schema.Envelope{}, errors.New("more than one JSON value on the line")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return schema.Envelope{Event: v}, nil
	}
	if _, has := obj["event"]; !has {
		return schema.Envelope{Event: obj}, nil
	}
	for k := range obj {
		if !envelopeKeys[k] {
			return schema.Envelope{Event: obj}, nil // a bare event that has an "event" member
		}
	}
	env := schema.Envelope{Event: obj["event"]}
	str := func(k string) (string, error) {
		x, ok := obj[k]
		if !ok || x == nil {
			return "", nil
		}
		s, ok := x.(string)
		if !ok {
			return "", fmt.Errorf("field %q: want a string", k)
		}
		return s, nil
	}
	var err error
	if env.Host, err = str("host"); err != nil {
		return env, err
	}
	if env.Source, err = str("source"); err != nil {
		return env, err
	}
	if env.Sourcetype, err = str("sourcetype"); err != nil {
		return env, err
	}
	if env.Index, err = str("index"); err != nil {
		return env, err
	}
	switch t := obj["time"].(type) {
	case nil:
	case json.Number:
		f, err := t.Float64()
		if err != nil || f < 0 {
			return env, fmt.Errorf("field \"time\": %q is not epoch seconds", t.String())
		}
		env.Time = f
	case string:
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || f < 0 {
			return env, fmt.Errorf("field \"time\": %q is not epoch seconds", t)
		}
		env.Time = f
	default:
		return env, errors.New("field \"time\": want epoch seconds")
	}
	switch f := obj["fields"].(type) {
	case nil:
	case map[string]any:
		env.Fields = f
	default:
		return env, errors.New("field \"fields\": want an object")
	}
	return env, nil
}
