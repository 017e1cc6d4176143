package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/enrich/prober"
)

// checkDNS asks each configured resolver one real question (the root's NS
// set, which every recursive resolver answers) through the prober's own
// transport: one line per resolver.
func checkDNS(ctx context.Context, cfg *config.Config, log *slog.Logger) []checkResult {
	var out []checkResult
	t, err := prober.NewTransport(1, cfg.DNS.Timeout.D(), cfg.DNS.Retries)
	if err != nil {
		return []checkResult{{Name: "dns", Detail: err.Error()}}
	}
	defer t.Close()
	for i, r := range cfg.DNS.Resolvers {
		name := fmt.Sprintf("dns[%d]", i)
		hp, err := config.HostPort(r, 53)
		if err != nil {
			out = append(out, checkResult{Name: name, Detail: fmt.Sprintf("dns.resolvers[%d]: %v", i, err)})
			continue
		}
		ap, err := netip.ParseAddrPort(hp)
		if err != nil {
			out = append(out, checkResult{Name: name, Detail: fmt.Sprintf("dns.resolvers[%d]: %q is not an IP address and port", i, r)})
			continue
		}
		start := time.Now()
		rep, err := t.Exchange(ctx, ap, ".", dns.TypeNS, true)
		if err != nil {
			out = append(out, checkResult{Name: name, Detail: fmt.Sprintf("%s: %v", ap, err)})
			continue
		}
		rc := dns.RcodeToString[rep.Msg.Rcode]
		ok := rep.Msg.Rcode == dns.RcodeSuccess || rep.Msg.Rcode == dns.RcodeNameError
		detail := fmt.Sprintf("%s answered \". NS\": %s in %s", ap, rc, time.Since(start).Round(time.Microsecond))
		if !ok {
			detail = fmt.Sprintf("%s answered \". NS\" with %s: the resolver refuses or cannot resolve for this host", ap, rc)
		}
		if !rep.Msg.RecursionAvailable && ok {
			log.Warn("dns resolver does not offer recursion (RA=0)", "resolver", ap.String())
		}
		out = append(out, checkResult{Name: name, OK: ok, Detail: detail})
	}
	return out
}
