package search

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fluxhunt/fluxhunt/schema"
)

// jobStatus is the part of a job's status the client reads.
type jobStatus struct {
	DispatchState string
	IsDone        bool
	IsFailed      bool
	ResultCount   int
	Messages      []Message
}

// flexible JSON scalars: Splunk writes flags as booleans or "0"/"1" and
// counts as numbers or strings, depending on the version.
type flexBool bool

func (b *flexBool) UnmarshalJSON(p []byte) error {
	s := strings.Trim(string(p), `"`)
	*b = flexBool(s == "true" || s == "1")
	return nil
}

type flexInt int

func (n *flexInt) UnmarshalJSON(p []byte) error {
	s := strings.Trim(string(p), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %q", schema.EscapeDisplay(s))
	}
	*n = flexInt(f)
	return nil
}

// jobs runs q through the job API: create, poll until done, page /results.
func (c *Client) jobs(ctx context.Context, info ServerInfo, q Query, fn func(schema.Fields) error) (Result, error) {
	base := c.jobsPath(info)
	form := q.form()
	form.Set("exec_mode", "normal")
	resp, err := c.do(ctx, "create job", http.MethodPost, base, form)
	if err != nil {
		return Result{}, err
	}
	var created struct {
		SID string `json:"sid"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&created)
	drain(resp)
	if err != nil || created.SID == "" {
		return Result{}, fmt.Errorf("search: create job: answer holds no sid")
	}
	sid := url.PathEscape(created.SID)
	defer c.deleteJob(sid, base, ctx.Err)

	st, err := c.waitJob(ctx, base+"/"+sid)
	if err != nil {
		return Result{}, err
	}
	var res Result
	offset := 0
	for offset < st.ResultCount {
		if ctx.Err() != nil {
			return res, fmt.Errorf("search: job results: %w", ctx.Err())
		}
		page := url.Values{"output_mode": {"json"}, "count": {strconv.Itoa(c.pageSize)}, "offset": {strconv.Itoa(offset)}}
		method := http.MethodGet
		if info.V2 {
			method = http.MethodPost // v2: /results by POST, no search parameters
		}
		resp, err := c.do(ctx, "job results", method, base+"/"+sid+"/results", page)
		if err != nil {
			return res, err
		}
		n, inPage := 0, 0
		pq := q
		pq.OnBadRow = func(b *BadRowError) {
			if b.InPage {
				inPage++
			}
			if q.OnBadRow != nil {
				q.OnBadRow(b)
			}
		}
		pr, err := decodeAll(ctx, "job results", resp.Body, pq, func(f schema.Fields) error { n++; return fn(f) }, false)
		_ = resp.Body.Close()
		res.Rows += pr.Rows
		res.BadRows += pr.BadRows
		res.Warnings = append(res.Warnings, pr.Warnings...)
		if err != nil {
			return res, err
		}
		if n+inPage == 0 {
			// Nothing usable: a page that is not a results page must not
			// pass for rows skipped.
			return res, fmt.Errorf("search: job results: no result rows at offset %d of %d", offset, st.ResultCount)
		}
		offset += n + inPage
	}
	res.Warnings = append(res.Warnings, st.Messages...)
	return res, nil
}

// waitJob polls a job's status until it is done or failed.
func (c *Client) waitJob(ctx context.Context, path string) (jobStatus, error) {
	wait := c.jobPoll
	for {
		st, err := c.jobStatus(ctx, path)
		if err != nil {
			return st, err
		}
		if st.IsFailed || st.DispatchState == "FAILED" {
			for _, m := range st.Messages {
				if m.Type == "ERROR" || m.Type == "FATAL" {
					return st, fmt.Errorf("search: job failed: %w", &SplunkError{Type: m.Type, Text: m.Text})
				}
			}
			return st, fmt.Errorf("search: job failed (dispatchState %s)", schema.EscapeDisplay(st.DispatchState))
		}
		if st.IsDone {
			for _, m := range st.Messages {
				if m.Type == "ERROR" || m.Type == "FATAL" {
					return st, fmt.Errorf("search: job: %w", &SplunkError{Type: m.Type, Text: m.Text})
				}
			}
			return st, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return st, fmt.Errorf("search: job status: %w", ctx.Err())
		case <-t.C:
		}
		if wait *= 2; wait > 2*time.Second {
			wait = 2 * time.Second
		}
	}
}

func (c *Client) jobStatus(ctx context.Context, path string) (jobStatus, error) {
	resp, err := c.do(ctx, "job status", http.MethodGet, path, url.Values{"output_mode": {"json"}})
	if err != nil {
		return jobStatus{}, err
	}
	defer drain(resp)
	if resp.StatusCode == http.StatusNoContent {
		return jobStatus{DispatchState: "QUEUED"}, nil
	}
	var j struct {
		Entry []struct {
			Content struct {
				DispatchState string          `json:"dispatchState"`
				IsDone        flexBool        `json:"isDone"`
				IsFailed      flexBool        `json:"isFailed"`
				ResultCount   flexInt         `json:"resultCount"`
				Messages      json.RawMessage `json:"messages"`
			} `json:"content"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&j); err != nil {
		return jobStatus{}, fmt.Errorf("search: job status: %w", err)
	}
	if len(j.Entry) == 0 {
		return jobStatus{}, fmt.Errorf("search: job status: answer holds no entry")
	}
	ct := j.Entry[0].Content
	st := jobStatus{DispatchState: ct.DispatchState, IsDone: bool(ct.IsDone), IsFailed: bool(ct.IsFailed), ResultCount: int(ct.ResultCount)}
	st.Messages = jobMessages(ct.Messages)
	return st, nil
}

// jobMessages reads a job's messages: either a list of {type,text} or
// Splunk's map of type to list of texts.
func jobMessages(raw json.RawMessage) []Message {
	if len(raw) == 0 {
		return nil
	}
	var list []struct{ Type, Text string }
	if json.Unmarshal(raw, &list) == nil {
		out := make([]Message, 0, len(list))
		for _, m := range list {
			out = append(out, Message{Type: m.Type, Text: m.Text})
		}
		return out
	}
	var byType map[string][]string
	if json.Unmarshal(raw, &byType) == nil {
		var out []Message
		for t, texts := range byType {
			for _, x := range texts {
				out = append(out, Message{Type: strings.ToUpper(t), Text: x})
			}
		}
		return out
	}
	return nil
}

// deleteJob removes the job; when the search was cancelled it cancels the
// job first. Best effort, bounded in time, on a context of its own.
func (c *Client) deleteJob(sid, base string, cancelled func() error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if cancelled() != nil {
		if resp, err := c.do(ctx, "cancel job", http.MethodPost, base+"/"+sid+"/control", url.Values{"action": {"cancel"}}); err == nil {
			drain(resp)
		}
	}
	if resp, err := c.do(ctx, "delete job", http.MethodDelete, base+"/"+sid, nil); err == nil {
		drain(resp)
	} else {
		c.log.Debug("search: delete job", "err", err)
	}
}
