package splunkemu

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// searchAPI serves the REST search API of the management port: login,
// server info, current context, export (v1 and v2) and the job API (create,
// status as Atom XML or JSON, results as JSON, control, delete), with
// Splunk's error bodies and fault injection (search_faults.go).
type searchAPI struct {
	s *Server

	mu       sync.Mutex
	sessions map[string]string // session key -> user
	jobs     map[string]*emuJob
	jobOrder []string
	jobSeq   int
	lookups  map[string]lookupTable
	faults   SearchFaults
	settings SearchSettings
	rng      *mrand.Rand
	stats    SearchStats
}

type emuJob struct {
	sid     string
	search  string
	owner   string
	res     *splResult
	polls   int
	created time.Time
	timeFmt string
}

func newSearchAPI(s *Server) *searchAPI {
	a := &searchAPI{
		s: s, sessions: map[string]string{}, jobs: map[string]*emuJob{},
		lookups: map[string]lookupTable{}, settings: SearchSettings{MaxResultRows: 50000},
	}
	a.reseed(0)
	return a
}

func (a *searchAPI) reseed(seed uint64) {
	if seed == 0 {
		seed = 1
	}
	a.rng = mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

const splunkBuild = "emu0fluxhunt"

func (a *searchAPI) handler() http.Handler { return http.HandlerFunc(a.serve) }

// servicePath strips /services or /servicesNS/OWNER/APP from a path.
func servicePath(p string) (string, bool) {
	switch {
	case strings.HasPrefix(p, "/services/"):
		return strings.TrimPrefix(p, "/services"), true
	case strings.HasPrefix(p, "/servicesNS/"):
		parts := strings.SplitN(strings.TrimPrefix(p, "/servicesNS/"), "/", 3)
		if len(parts) == 3 {
			return "/" + parts[2], true
		}
	}
	return "", false
}

func (a *searchAPI) serve(w http.ResponseWriter, r *http.Request) {
	// splunkd reads a POST body as a form whatever its Content-Type says;
	// splunklib sends forms without one.
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<20)
	_ = r.ParseForm()
	p, ok := servicePath(strings.TrimRight(r.URL.Path, "/"))
	if !ok {
		splunkError(w, r, http.StatusNotFound, "ERROR", "Not Found")
		return
	}
	a.mu.Lock()
	f := a.faults
	a.mu.Unlock()
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	if p == "/auth/login" {
		a.login(w, r)
		return
	}
	a.mu.Lock()
	if a.roll(f.SessionExpiryRate) {
		clear(a.sessions)
		if strings.HasPrefix(r.Header.Get("Authorization"), "Splunk ") {
			a.stats.Expired401++
		}
	}
	a.mu.Unlock()
	user, ok := a.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Splunk realm="splunkd"`)
		splunkError(w, r, http.StatusUnauthorized, "WARN", "call not properly authenticated")
		return
	}
	switch {
	case p == "/server/info" || p == "/server/info/server-info":
		a.serverInfo(w, r)
	case p == "/authentication/current-context":
		a.currentContext(w, r, user)
	case p == "/search/jobs/export" || p == "/search/v2/jobs/export":
		if !a.v2OK(w, r, p) || !a.fault5xx(w, r) {
			return
		}
		a.export(w, r)
	case p == "/search/jobs" || p == "/search/v2/jobs":
		if !a.v2OK(w, r, p) {
			return
		}
		if r.Method == http.MethodPost {
			if !a.fault5xx(w, r) {
				return
			}
			a.createJob(w, r, user)
			return
		}
		a.listJobs(w, r)
	case strings.HasPrefix(p, "/search/jobs/") || strings.HasPrefix(p, "/search/v2/jobs/"):
		if !a.v2OK(w, r, p) {
			return
		}
		rest := strings.TrimPrefix(strings.TrimPrefix(p, "/search/v2/jobs/"), "/search/jobs/")
		sid, sub, _ := strings.Cut(rest, "/")
		a.job(w, r, sid, sub)
	default:
		splunkError(w, r, http.StatusNotFound, "ERROR", "Not Found")
	}
}

// v2OK answers 404 on v2 paths when the emulated version predates 9.0.2.
func (a *searchAPI) v2OK(w http.ResponseWriter, r *http.Request, p string) bool {
	if strings.HasPrefix(p, "/search/v2/") && !versionAtLeast(a.s.opts.Version, 9, 0, 2) {
		splunkError(w, r, http.StatusNotFound, "ERROR", "Not Found")
		return false
	}
	return true
}

func versionAtLeast(v string, want ...int) bool {
	parts := strings.Split(v, ".")
	for i, w := range want {
		n := 0
		if i < len(parts) {
			n, _ = strconv.Atoi(strings.TrimFunc(parts[i], func(r rune) bool { return r < '0' || r > '9' }))
		}
		if n != w {
			return n > w
		}
	}
	return true
}

func (a *searchAPI) fault5xx(w http.ResponseWriter, r *http.Request) bool {
	a.mu.Lock()
	hit := a.roll(a.faults.Status5xxRate)
	if hit {
		a.stats.Faults5xx++
	}
	a.mu.Unlock()
	if hit {
		splunkError(w, r, http.StatusServiceUnavailable, "ERROR", "Search head is busy; the maximum number of concurrent searches has been reached. (emulated fault)")
		return false
	}
	return true
}

// splunkError writes Splunk's error body: XML, or JSON with output_mode=json.
func splunkError(w http.ResponseWriter, r *http.Request, status int, typ, text string) {
	if r.Form.Get("output_mode") == "json" {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"messages": []map[string]string{{"type": typ, "text": text}}})
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <messages>\n    <msg type=\"%s\">%s</msg>\n  </messages>\n</response>\n", xmlEsc(typ), xmlEsc(text))
}

func xmlEsc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (a *searchAPI) authenticate(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	tok := a.s.opts.SearchToken
	switch strings.ToLower(scheme) {
	case "bearer":
		if tok != "" && subtle.ConstantTimeCompare([]byte(cred), []byte(tok)) == 1 {
			return "fluxhunt-token", true
		}
	case "splunk":
		if tok != "" && subtle.ConstantTimeCompare([]byte(cred), []byte(tok)) == 1 {
			return "fluxhunt-token", true
		}
		a.mu.Lock()
		u, ok := a.sessions[cred]
		a.mu.Unlock()
		return u, ok
	case "basic":
		b, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return "", false
		}
		u, p, _ := strings.Cut(string(b), ":")
		if a.checkPassword(u, p) {
			return u, true
		}
	}
	return "", false
}

func (a *searchAPI) checkPassword(u, p string) bool {
	o := a.s.opts
	return o.Username != "" && o.Password != "" &&
		subtle.ConstantTimeCompare([]byte(u), []byte(o.Username)) == 1 &&
		subtle.ConstantTimeCompare([]byte(p), []byte(o.Password)) == 1
}

func (a *searchAPI) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		splunkError(w, r, http.StatusMethodNotAllowed, "ERROR", "Method Not Allowed")
		return
	}
	u, p := r.PostForm.Get("username"), r.PostForm.Get("password")
	if !a.checkPassword(u, p) {
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
		if r.Form.Get("output_mode") == "json" {
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"messages":[{"type":"WARN","code":"incorrect_username_or_password","text":"Login failed"}]}`)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, "<response>\n  <messages>\n    <msg type=\"WARN\" code=\"incorrect_username_or_password\">Login failed</msg>\n  </messages>\n</response>\n")
		return
	}
	var kb [24]byte
	_, _ = rand.Read(kb[:])
	key := base64.RawURLEncoding.EncodeToString(kb[:])
	a.mu.Lock()
	a.sessions[key] = u
	a.stats.Logins++
	a.mu.Unlock()
	if r.Form.Get("output_mode") == "json" {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_ = json.NewEncoder(w).Encode(map[string]string{"sessionKey": key, "message": "", "code": ""})
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	fmt.Fprintf(w, "<response>\n  <sessionKey>%s</sessionKey>\n  <messages>\n    <msg code=\"\"></msg>\n  </messages>\n</response>\n", key)
}

// kv is an ordered key/value list for Atom s:dict and JSON content.
type kv struct {
	k string
	v any // string, int, bool, []string
}

func atomValue(v any) string {
	switch x := v.(type) {
	case string:
		return xmlEsc(x)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case int:
		return strconv.Itoa(x)
	case []string:
		var b strings.Builder
		b.WriteString("<s:list>")
		for _, s := range x {
			b.WriteString("<s:item>" + xmlEsc(s) + "</s:item>")
		}
		b.WriteString("</s:list>")
		return b.String()
	case []kv:
		return atomDict(x)
	}
	return xmlEsc(fmt.Sprint(v))
}

func atomDict(content []kv) string {
	var b strings.Builder
	b.WriteString("<s:dict>")
	for _, e := range content {
		fmt.Fprintf(&b, "\n        <s:key name=\"%s\">%s</s:key>", xmlEsc(e.k), atomValue(e.v))
	}
	b.WriteString("\n      </s:dict>")
	return b.String()
}

func jsonContent(content []kv) map[string]any {
	m := make(map[string]any, len(content))
	for _, e := range content {
		if d, ok := e.v.([]kv); ok {
			m[e.k] = jsonContent(d)
			continue
		}
		m[e.k] = e.v
	}
	return m
}

const atomNS = `xmlns="http://www.w3.org/2005/Atom" xmlns:s="http://dev.splunk.com/ns/rest" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"`

func (a *searchAPI) writeEntry(w http.ResponseWriter, r *http.Request, feed bool, path, title string, content []kv) {
	now := time.Now().UTC().Format("2006-01-02T15:04:05+00:00")
	base := "https://" + r.Host
	if r.Form.Get("output_mode") == "json" {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"links": map[string]any{}, "origin": base + "/services" + path, "updated": now,
			"generator": map[string]string{"build": splunkBuild, "version": a.s.opts.Version},
			"entry": []map[string]any{{
				"name": title, "id": base + "/services" + path, "updated": now,
				"links": map[string]string{"alternate": "/services" + path}, "author": "system",
				"acl": map[string]any{"app": "search", "owner": "nobody", "sharing": "global"}, "content": jsonContent(content),
			}},
			"paging": map[string]int{"total": 1, "perPage": 30, "offset": 0}, "messages": []any{},
		})
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	entry := fmt.Sprintf("<entry%s>\n    <title>%s</title>\n    <id>%s</id>\n    <updated>%s</updated>\n    <link href=\"/services%s\" rel=\"alternate\"/>\n    <author>\n      <name>system</name>\n    </author>\n    <content type=\"text/xml\">\n      %s\n    </content>\n  </entry>",
		map[bool]string{true: "", false: " " + atomNS}[feed], xmlEsc(title), xmlEsc(base+"/services"+path), now, xmlEsc(path), atomDict(content))
	if feed {
		fmt.Fprintf(&b, "<feed %s>\n  <title>%s</title>\n  <id>%s</id>\n  <updated>%s</updated>\n  <generator build=\"%s\" version=\"%s\"/>\n  <author>\n    <name>Splunk</name>\n  </author>\n  <opensearch:totalResults>1</opensearch:totalResults>\n  <opensearch:itemsPerPage>30</opensearch:itemsPerPage>\n  <opensearch:startIndex>0</opensearch:startIndex>\n  <s:messages/>\n  %s\n</feed>\n",
			atomNS, xmlEsc(title), xmlEsc(base+"/services"+path), now, splunkBuild, xmlEsc(a.s.opts.Version), entry)
	} else {
		b.WriteString(entry + "\n")
	}
	_, _ = w.Write([]byte(b.String()))
}

func (a *searchAPI) serverInfo(w http.ResponseWriter, r *http.Request) {
	a.writeEntry(w, r, true, "/server/info/server-info", "server-info", []kv{
		{"build", splunkBuild}, {"cpu_arch", "x86_64"}, {"guid", "0f1e2d3c-fluxhunt-emulator"},
		{"isFree", false}, {"isTrial", false}, {"mode", "normal"}, {"os_name", "Linux"},
		{"product_type", "enterprise"}, {"serverName", "splunkemu"}, {"server_roles", []string{"search_head"}},
		{"version", a.s.opts.Version},
	})
}

func (a *searchAPI) currentContext(w http.ResponseWriter, r *http.Request, user string) {
	a.writeEntry(w, r, true, "/authentication/current-context/context", "context", []kv{
		{"username", user}, {"realname", ""}, {"roles", []string{"fluxhunt_connector"}},
		{"capabilities", []string{"search", "rest_properties_get"}}, {"defaultApp", "search"},
	})
}

// bounds reads the time parameters of a search.
func bounds(r *http.Request, now time.Time) (splBounds, error) {
	var b splBounds
	for _, p := range []struct {
		key string
		dst **float64
	}{{"earliest_time", &b.earliest}, {"latest_time", &b.latest}, {"index_earliest", &b.indexEarliest}, {"index_latest", &b.indexLatest}} {
		v := strings.TrimSpace(r.Form.Get(p.key))
		if v == "" {
			continue
		}
		t, err := parseTimeArg(v, now)
		if err != nil {
			return b, &splError{status: 400, text: fmt.Sprintf("Invalid value \"%s\" for time term '%s'", v, p.key)}
		}
		if t != nil {
			*p.dst = t
		}
	}
	return b, nil
}

// parseTimeArg reads epoch seconds, "now", "0" (all time) or a relative
// time -Nu (s, m, h, d).
func parseTimeArg(v string, now time.Time) (*float64, error) {
	if v == "now" {
		f := float64(now.Unix())
		return &f, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f == 0 {
			return nil, nil
		}
		return &f, nil
	}
	if strings.HasPrefix(v, "-") || strings.HasPrefix(v, "+") {
		num := strings.TrimLeft(v[1:], "0123456789")
		n, err := strconv.Atoi(v[1 : len(v)-len(num)])
		if err != nil {
			n = 1
		}
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[strings.SplitN(num, "@", 2)[0]]
		if unit == 0 {
			return nil, fmt.Errorf("bad time")
		}
		d := time.Duration(n) * unit
		if v[0] == '-' {
			d = -d
		}
		f := float64(now.Add(d).Unix())
		return &f, nil
	}
	return nil, fmt.Errorf("bad time")
}

func (a *searchAPI) run(w http.ResponseWriter, r *http.Request) (*splResult, bool) {
	b, err := bounds(r, time.Now())
	if err == nil {
		var res *splResult
		res, err = a.runSearch(r.Form.Get("search"), b)
		if err == nil {
			return res, true
		}
	}
	status, text := 400, err.Error()
	if se, ok := err.(*splError); ok {
		status = se.status
	}
	splunkError(w, r, status, "FATAL", text)
	return nil, false
}

// rowJSON appends one row as a JSON object: columns in order, single values
// as strings, multivalue as arrays; _time formatted per time_format.
func rowJSON(buf []byte, cols []string, row splRow, timeFmt string) []byte {
	buf = append(buf, '{')
	first := true
	emit := func(k string) {
		v, ok := row[k]
		if !ok || len(v) == 0 {
			return
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = appendJSONString(buf, k)
		buf = append(buf, ':')
		if len(v) == 1 {
			s := v[0]
			if k == "_time" {
				s = formatTime(s, timeFmt)
			}
			buf = appendJSONString(buf, s)
			return
		}
		buf = append(buf, '[')
		for i, s := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, s)
		}
		buf = append(buf, ']')
	}
	for _, c := range cols {
		emit(c)
	}
	if len(row) > len(cols) {
		var extra []string
		for k := range row {
			if !contains(cols, k) {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		for _, k := range extra {
			emit(k)
		}
	}
	return append(buf, '}')
}

func appendJSONString(buf []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(buf, b...)
}

func formatTime(epoch, timeFmt string) string {
	f, err := strconv.ParseFloat(epoch, 64)
	if timeFmt == "%s" || err != nil {
		return epoch
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC().Format("2006-01-02T15:04:05.000+00:00")
}

// export streams a search's results, one JSON object a line, with the
// faults drawn for this request.
func (a *searchAPI) export(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	f := a.faults
	settings := a.settings
	a.stats.Exports++
	a.mu.Unlock()
	if f.RefuseExport {
		splunkError(w, r, http.StatusForbidden, "ERROR", "You do not have permission to export search results: the role lacks the 'export_results_is_visible' capability. (emulated)")
		return
	}
	res, ok := a.run(w, r)
	if !ok {
		return
	}
	n := len(res.rows)
	a.mu.Lock()
	cut := a.roll(f.CutStreamRate)
	malformed := a.roll(f.MalformedRowRate)
	errMsg := a.roll(f.ErrorMessageRate)
	pos := func() int {
		if n == 0 {
			return 0
		}
		return a.rng.IntN(n)
	}
	cutAt, badAt, errAt := pos(), pos(), pos()
	badKind := a.rng.IntN(2)
	if cut {
		a.stats.Cuts++
	}
	if malformed {
		a.stats.Malformed++
	}
	if errMsg {
		a.stats.ErrorMessages++
	}
	a.mu.Unlock()
	timeFmt := r.Form.Get("time_format")
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	bw := bufio.NewWriterSize(w, 32<<10)
	var line []byte
	if settings.PreviewSets && res.transforming && n > 1 {
		for i := 0; i < n/2; i++ {
			line = append(line[:0], `{"preview":true,"offset":`...)
			line = strconv.AppendInt(line, int64(i), 10)
			line = append(line, `,"result":`...)
			line = rowJSON(line, res.cols, res.rows[i], timeFmt)
			line = append(line, "}\n"...)
			_, _ = bw.Write(line)
		}
	}
	for i, row := range res.rows {
		if r.Context().Err() != nil {
			return
		}
		if errMsg && i == errAt {
			fmt.Fprintf(bw, "{\"preview\":false,\"messages\":[{\"type\":\"ERROR\",\"text\":\"Streamed search execute failed because: Error in 'stats' command: emulated search process failure on peer idx-%d.\"}]}\n", i)
			_ = bw.Flush()
			return
		}
		if malformed && i == badAt {
			if badKind == 0 {
				fmt.Fprintf(bw, "{\"preview\":false,\"offset\":%d,\"result\":{\"src\":\"10.255.0.1\",\"query\":\"malf\x7f\n", i)
			} else {
				fmt.Fprintf(bw, "{\"preview\":false,\"offset\":%d,\"result\":{\"_time\":\"1\",\"src\":{\"nested\":\"object\"},\"query\":\"x.example\"}}\n", i)
			}
		}
		line = append(line[:0], `{"preview":false,"offset":`...)
		line = strconv.AppendInt(line, int64(i), 10)
		if i == n-1 {
			line = append(line, `,"lastrow":true`...)
		}
		line = append(line, `,"result":`...)
		line = rowJSON(line, res.cols, row, timeFmt)
		line = append(line, "}\n"...)
		if cut && i == cutAt {
			_, _ = bw.Write(line[:len(line)/2])
			_ = bw.Flush()
			if fl != nil {
				fl.Flush()
			}
			panic(http.ErrAbortHandler) // abort: no end of the chunked body
		}
		_, _ = bw.Write(line)
		if i%256 == 255 {
			_ = bw.Flush()
			if fl != nil {
				fl.Flush()
			}
		}
	}
	if n == 0 {
		_, _ = bw.WriteString("{\"preview\":false,\"lastrow\":true}\n")
	}
	_ = bw.Flush()
}

func (a *searchAPI) createJob(w http.ResponseWriter, r *http.Request, user string) {
	if r.Form.Get("exec_mode") == "oneshot" {
		splunkError(w, r, http.StatusBadRequest, "ERROR", "exec_mode=oneshot is not supported by the fluxhunt Splunk emulator")
		return
	}
	res, ok := a.run(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	a.jobSeq++
	sid := fmt.Sprintf("%d.%d_emu", time.Now().Unix(), a.jobSeq)
	a.jobs[sid] = &emuJob{sid: sid, search: r.Form.Get("search"), owner: user, res: res, created: time.Now(), timeFmt: r.Form.Get("time_format")}
	a.jobOrder = append(a.jobOrder, sid)
	if len(a.jobOrder) > 1000 {
		delete(a.jobs, a.jobOrder[0])
		a.jobOrder = a.jobOrder[1:]
	}
	a.stats.JobsCreated++
	a.mu.Unlock()
	if r.Form.Get("output_mode") == "json" {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"sid": sid})
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <sid>%s</sid>\n</response>\n", xmlEsc(sid))
}

func (a *searchAPI) listJobs(w http.ResponseWriter, r *http.Request) {
	// The emulator lists no jobs (it keeps them only to serve their results).
	if r.Form.Get("output_mode") == "json" {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		fmt.Fprint(w, `{"links":{},"entry":[],"paging":{"total":0,"perPage":0,"offset":0},"messages":[]}`)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed %s>\n  <title>jobs</title>\n  <opensearch:totalResults>0</opensearch:totalResults>\n</feed>\n", atomNS)
}

func (a *searchAPI) job(w http.ResponseWriter, r *http.Request, sid, sub string) {
	a.mu.Lock()
	j := a.jobs[sid]
	a.mu.Unlock()
	if j == nil {
		splunkError(w, r, http.StatusNotFound, "FATAL", "Unknown sid.")
		return
	}
	switch sub {
	case "":
		switch r.Method {
		case http.MethodDelete:
			a.mu.Lock()
			delete(a.jobs, sid)
			a.mu.Unlock()
			splunkMessage(w, r, "Search job cancelled.")
		default:
			a.jobStatus(w, r, j)
		}
	case "control":
		switch r.Form.Get("action") {
		case "cancel":
			a.mu.Lock()
			delete(a.jobs, sid)
			a.mu.Unlock()
			splunkMessage(w, r, "Search job cancelled.")
		case "finalize", "pause", "unpause", "touch", "enablepreview", "disablepreview", "setpriority", "setttl":
			splunkMessage(w, r, "Search job updated.")
		default:
			splunkError(w, r, http.StatusBadRequest, "ERROR", "Unknown action.")
		}
	case "results", "results_preview", "events":
		if !a.fault5xx(w, r) {
			return
		}
		a.results(w, r, j)
	default:
		splunkError(w, r, http.StatusNotFound, "ERROR", "Not Found")
	}
}

func splunkMessage(w http.ResponseWriter, r *http.Request, text string) {
	if r.Form.Get("output_mode") == "json" {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_ = json.NewEncoder(w).Encode(map[string]any{"messages": []map[string]string{{"type": "INFO", "text": text}}})
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <messages>\n    <msg type=\"INFO\">%s</msg>\n  </messages>\n</response>\n", xmlEsc(text))
}

// jobStatus: the first poll finds the job RUNNING, later ones DONE, so
// clients exercise their polling.
func (a *searchAPI) jobStatus(w http.ResponseWriter, r *http.Request, j *emuJob) {
	a.mu.Lock()
	j.polls++
	done := j.polls > 1
	a.mu.Unlock()
	state := "RUNNING"
	if done {
		state = "DONE"
	}
	count := len(j.res.rows)
	progress := "0.50000"
	if done {
		progress = "1.00000"
	}
	content := []kv{
		{"sid", j.sid}, {"dispatchState", state}, {"isDone", done}, {"isFailed", false},
		{"isFinalized", false}, {"isPaused", false}, {"isSaved", false}, {"isZombie", false},
		{"doneProgress", progress}, {"resultCount", count}, {"resultPreviewCount", count},
		{"eventCount", count}, {"scanCount", count}, {"runDuration", "0.01"},
		{"isPreviewEnabled", false}, {"reportSearch", j.search}, {"eventSearch", j.search},
		{"label", ""}, {"ttl", 600},
		{"eai:acl", []kv{{"app", "search"}, {"owner", j.owner}, {"sharing", "global"}, {"perms", []kv{{"read", []string{j.owner}}, {"write", []string{j.owner}}}}}},
	}
	path := "/search/jobs/" + j.sid
	if r.Form.Get("output_mode") == "json" {
		// JSON status carries real booleans and numbers, and messages as a list.
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		m := jsonContent(content)
		m["messages"] = []any{}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"links": map[string]any{}, "origin": "https://" + r.Host + "/services/search/jobs",
			"updated": time.Now().UTC().Format(time.RFC3339), "generator": map[string]string{"build": splunkBuild, "version": a.s.opts.Version},
			"entry": []map[string]any{{"name": j.search, "id": "https://" + r.Host + "/services" + path, "author": j.owner,
				"links": map[string]string{"alternate": "/services" + path, "results": "/services" + path + "/results"}, "content": m}},
			"paging": map[string]int{"total": 1, "perPage": 0, "offset": 0}, "messages": []any{},
		})
		return
	}
	a.writeEntry(w, r, false, path, j.search, append(content, kv{"messages", []kv{}}))
}

// results serves one page of a job's results as JSON (count/offset within
// maxresultrows; count=0: as many as maxresultrows allows).
func (a *searchAPI) results(w http.ResponseWriter, r *http.Request, j *emuJob) {
	a.mu.Lock()
	maxRows := a.settings.MaxResultRows
	a.stats.ResultPages++
	a.mu.Unlock()
	count, offset := 100, 0
	if v := r.Form.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			splunkError(w, r, http.StatusBadRequest, "ERROR", "Argument \"count\" is not a valid number")
			return
		}
		count = n
	}
	if count == 0 || count > maxRows {
		count = maxRows
	}
	if v := r.Form.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			splunkError(w, r, http.StatusBadRequest, "ERROR", "Argument \"offset\" is not a valid number")
			return
		}
		offset = n
	}
	rows := j.res.rows
	if offset < 0 {
		offset = max(0, len(rows)+offset)
	}
	if offset > len(rows) {
		offset = len(rows)
	}
	end := min(len(rows), offset+count)
	timeFmt := r.Form.Get("time_format")
	if timeFmt == "" {
		timeFmt = j.timeFmt
	}
	if r.Form.Get("output_mode") != "json" {
		splunkError(w, r, http.StatusBadRequest, "ERROR", "the fluxhunt Splunk emulator serves results as output_mode=json only")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	buf := []byte(`{"preview":false,"init_offset":`)
	buf = strconv.AppendInt(buf, int64(offset), 10)
	buf = append(buf, `,"messages":[],"fields":[`...)
	for i, c := range j.res.cols {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"name":`...)
		buf = appendJSONString(buf, c)
		buf = append(buf, '}')
	}
	buf = append(buf, `],"results":[`...)
	for i, row := range rows[offset:end] {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = rowJSON(buf, j.res.cols, row, timeFmt)
	}
	buf = append(buf, "],\"highlighted\":{}}\n"...)
	_, _ = w.Write(buf)
}
