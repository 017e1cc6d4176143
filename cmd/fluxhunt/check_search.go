package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/search"
	"github.com/fluxhunt/fluxhunt/schema"
)

// checkSearch checks the Splunk search head: the credentials (who they
// authenticate as), the version (and so which search API is used), and
// that the poll searches run (macros defined, search allowed) over an empty
// index-time window. No line ever holds a secret: errors carry Splunk's
// messages and scrubbed URLs only.
func checkSearch(ctx context.Context, cfg *config.Config, log *slog.Logger) []checkResult {
	s := cfg.Splunk.Search
	if s.URL == "" {
		return nil
	}
	c, err := search.New(s, search.Options{Logger: log, RetryMax: 2, RetryWaitMin: 200 * time.Millisecond, RetryWaitMax: time.Second})
	if err != nil {
		return []checkResult{{Name: "splunk-search", Detail: err.Error()}}
	}
	user, err := c.CurrentUser(ctx)
	if err != nil {
		reason := err.Error()
		if errors.Is(err, search.ErrUnauthorized) {
			how := "splunk.search.token"
			if !s.Token.IsSet() {
				how = "splunk.search.username/password"
			}
			reason = fmt.Sprintf("%s is not accepted: %s", how, err)
		}
		return []checkResult{{Name: "splunk-search", Detail: reason}}
	}
	out := []checkResult{{Name: "splunk-search", OK: true, Detail: fmt.Sprintf("%s authenticated as %s", searchHost(s.URL), schema.EscapeDisplay(user))}}
	info, err := c.Info(ctx)
	if err != nil {
		return append(out, checkResult{Name: "splunk-version", Detail: err.Error()})
	}
	api := "v1 search endpoints (before 9.0.2)"
	if info.V2 {
		api = "v2 search endpoints"
	}
	out = append(out, checkResult{Name: "splunk-version", OK: true, Detail: fmt.Sprintf("Splunk %s, %s", schema.EscapeDisplay(info.Version), api)})

	// The poll searches over an empty index-time window: Splunk parses them
	// (macros, commands, permissions) and returns nothing.
	vars := config.SearchVars{Shard: cfg.Poll.Shard.Index, Shards: cfg.Poll.Shard.Count, Limit: cfg.Poll.Limit}
	searches := []struct{ name, key, text string }{{"poll-dns", "poll.dns_search", cfg.Poll.DNSSearch}}
	if cfg.Poll.Flows {
		searches = append(searches, struct{ name, key, text string }{"poll-flow", "poll.flow_search", cfg.Poll.FlowSearch})
	}
	at := time.Now().Add(-cfg.Poll.Lag.D()).Truncate(time.Second)
	for _, sr := range searches {
		text, err := config.RenderSearch(sr.text, vars)
		if err != nil {
			out = append(out, checkResult{Name: sr.name, Detail: fmt.Sprintf("%s: %v", sr.key, err)})
			continue
		}
		res, err := c.Search(ctx, search.Query{Search: text, EarliestTime: at.Add(-cfg.Poll.MaxEventAge.D()), IndexEarliest: at, IndexLatest: at},
			func(schema.Fields) error { return nil })
		if err != nil {
			out = append(out, checkResult{Name: sr.name, Detail: fmt.Sprintf("%s does not run: %v", sr.key, err)})
			continue
		}
		how := "export"
		if res.UsedJobs {
			how = "job API (export refused)"
		}
		out = append(out, checkResult{Name: sr.name, OK: true, Detail: fmt.Sprintf("%s runs (%s, shard %s)", sr.key, how, cfg.Poll.Shard)})
	}
	return out
}

// searchHost is the host:port of the search head URL (never credentials).
func searchHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "search head"
	}
	return u.Host
}
