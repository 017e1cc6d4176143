package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/fluxhunt/fluxhunt/lab"
)

func cmdLab(ctx context.Context, e *env) int {
	fs := newFlagSet(e, "lab", "[flags]")
	var o lab.Options
	fs.BoolVar(&o.SplunkOnly, "splunk-only", false, "run only the Splunk emulator (search + HEC), filled with the scenario")
	fs.BoolVar(&o.DNSOnly, "dns-only", false, "run only the DNS lab server")
	fs.StringVar(&o.SearchListen, "search-listen", "127.0.0.1:8089", "REST API address (loopback)")
	fs.StringVar(&o.HECListen, "hec-listen", "127.0.0.1:8088", "HEC address (loopback)")
	fs.StringVar(&o.SearchToken, "search-token", "", "bearer token of the REST API (made up and printed when empty)")
	fs.StringVar(&o.Username, "username", "admin", "user for /services/auth/login")
	fs.StringVar(&o.Password, "password", "", "password for /services/auth/login (made up and printed when empty)")
	fs.StringVar(&o.HECToken, "hec-token", "", "HEC token (made up and printed when empty)")
	fs.BoolVar(&o.TLS, "tls", false, "serve HTTPS with a self-signed certificate (written to a file the banner names)")
	fs.StringVar(&o.DNSListen, "dns-listen", "127.0.0.1:0", "DNS lab address (loopback; port 0 picks a free port)")
	fs.Int64Var(&o.Seed, "seed", 1, "seed of the scenario and the DNS world")
	fs.IntVar(&o.Hosts, "hosts", 400, "hosts in the scenario")
	fs.StringVar(&o.StateDir, "state-dir", "", "state directory (default: a temporary one, removed at exit)")
	verbose := fs.Bool("v", false, "log the pipeline at info level")
	if rc := parseFlags(fs, e.args); rc >= 0 {
		return rc
	}
	if o.SplunkOnly && o.DNSOnly {
		fmt.Fprintln(e.stderr, "fluxhunt lab: --splunk-only and --dns-only exclude each other")
		return exitConfig
	}
	level := "warn"
	if *verbose {
		level = "info"
	}
	o.Logger = newLogger(e.stderr, level, "text").With(slog.String("in", "lab"))
	o.Out = e.stdout
	o.Version = version
	if err := lab.Run(ctx, o); err != nil {
		fmt.Fprintf(e.stderr, "fluxhunt lab: %v\n", err)
		return exitFail
	}
	return exitOK
}
