package route53test

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TB is the part of testing.TB the server uses.
type TB interface {
	Helper()
	Cleanup(func())
}

// Call is one request the server answered.
type Call struct {
	Op   string // ChangeResourceRecordSets, ListResourceRecordSets, GetChange
	At   time.Time
	Code string // the error code answered, "" on success
}

// Server is a local Route 53 API.
type Server struct {
	*httptest.Server
	mu        sync.Mutex
	zones     map[string]*zone
	changes   map[string]*change
	pending   []*change
	seq       int
	syncDelay time.Duration
	throttles map[string][]string // op → error codes to answer next, in order
	calls     []Call
	// health is each health check's checkers, true for those reporting success.
	health map[string][]bool
}

// checkerRegions are where Route 53's health checkers report from.
var checkerRegions = []string{"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"}

// SetHealthCheck makes health check id known, with checkers of Route 53's health
// checkers reporting on it and the first healthy of them reporting success.
func (s *Server) SetHealthCheck(id string, healthy, checkers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	obs := make([]bool, checkers)
	for i := range min(healthy, checkers) {
		obs[i] = true
	}
	s.health[id] = obs
}

// NewServer starts a server whose changes are INSYNC after syncDelay.
func NewServer(tb TB, syncDelay time.Duration) *Server {
	tb.Helper()
	s := &Server{zones: map[string]*zone{}, changes: map[string]*change{}, syncDelay: syncDelay, throttles: map[string][]string{}, health: map[string][]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// AddZone creates a hosted zone with the given records, already served.
func (s *Server) AddZone(id, name string, sets ...RecordSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := &zone{id: id, name: canonicalName(name)}
	for _, r := range sets {
		r.Name = canonicalName(r.Name)
		z.sets = append(z.sets, r)
	}
	z.sort()
	z.served = z.sets
	s.zones[id] = z
}

// Throttle makes the next calls of op fail with the given error codes, one each
// (PriorRequestNotComplete, Throttling).
func (s *Server) Throttle(op string, codes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttles[op] = append(s.throttles[op], codes...)
}

// Calls returns the requests answered so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Records returns the zone's record sets as the API lists them.
func (s *Server) Records(zoneID string) []RecordSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RecordSet(nil), s.zones[zoneID].sets...)
}

// Served returns the weights of the weighted records of name and type, by set
// identifier, as the name servers answer: as of the last change in sync.
func (s *Server) Served(zoneID, name, typ string) map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(time.Now())
	out := map[string]int64{}
	for _, r := range s.zones[zoneID].served {
		if r.Name == canonicalName(name) && r.Type == typ && r.Weight != nil {
			out[r.SetIdentifier] = *r.Weight
		}
	}
	return out
}

// advance marks changes submitted at least syncDelay ago INSYNC, in order.
func (s *Server) advance(now time.Time) {
	for len(s.pending) > 0 && now.Sub(s.pending[0].submitted) >= s.syncDelay {
		c := s.pending[0]
		c.insync, c.zone.served = true, c.after
		s.pending = s.pending[1:]
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/2013-04-01/")
	var op string
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(path, "hostedzone/") && strings.HasSuffix(path, "/rrset"):
		op = "ChangeResourceRecordSets"
	case r.Method == http.MethodGet && strings.HasPrefix(path, "hostedzone/") && strings.HasSuffix(path, "/rrset"):
		op = "ListResourceRecordSets"
	case r.Method == http.MethodGet && strings.HasPrefix(path, "change/"):
		op = "GetChange"
	case r.Method == http.MethodGet && strings.HasPrefix(path, "healthcheck/") && strings.HasSuffix(path, "/status"):
		op = "GetHealthCheckStatus"
	default:
		writeError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation "+r.Method+" "+r.URL.Path)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	code := s.answer(w, r, op, path)
	s.calls = append(s.calls, Call{Op: op, At: time.Now(), Code: code})
}

// answer serves one call and returns the error code it answered with, if any.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, op, path string) string {
	// Requests are signed with Signature Version 4; without a signature AWS refuses.
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=") {
		return writeError(w, http.StatusForbidden, "MissingAuthenticationToken", "Missing Authentication Token")
	}
	if codes := s.throttles[op]; len(codes) > 0 {
		s.throttles[op] = codes[1:]
		msg := "Rate exceeded"
		if codes[0] == "PriorRequestNotComplete" {
			msg = "The request was rejected because Route 53 was still processing a prior request."
		}
		return writeError(w, http.StatusBadRequest, codes[0], msg)
	}
	s.advance(time.Now())
	if op == "GetChange" {
		return s.getChange(w, strings.TrimPrefix(path, "change/"))
	}
	if op == "GetHealthCheckStatus" {
		return s.healthCheckStatus(w, strings.TrimSuffix(strings.TrimPrefix(path, "healthcheck/"), "/status"))
	}
	id := strings.TrimSuffix(strings.TrimPrefix(path, "hostedzone/"), "/rrset")
	z, ok := s.zones[id]
	if !ok {
		return writeError(w, http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: "+id)
	}
	if op == "ListResourceRecordSets" {
		return s.list(w, r, z)
	}
	return s.change(w, r, z)
}

func (s *Server) getChange(w http.ResponseWriter, id string) string {
	c, ok := s.changes[id]
	if !ok {
		return writeError(w, http.StatusNotFound, "NoSuchChange", "A change with the specified change ID does not exist: "+id)
	}
	writeXML(w, http.StatusOK, getChangeResponse{Xmlns: xmlns, Info: c.info()})
	return ""
}

// healthCheckStatus answers GetHealthCheckStatus: one observation per checker.
func (s *Server) healthCheckStatus(w http.ResponseWriter, id string) string {
	obs, ok := s.health[id]
	if !ok {
		return writeError(w, http.StatusNotFound, "NoSuchHealthCheck", "No health check exists with the specified ID "+id)
	}
	resp := healthCheckStatusResponse{Xmlns: xmlns}
	now := time.Now().UTC().Format(time.RFC3339)
	for i, healthy := range obs {
		status := "Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall."
		if healthy {
			status = "Success: HTTP Status Code 200, OK"
		}
		resp.Observations = append(resp.Observations, healthCheckObservation{
			IPAddress: fmt.Sprintf("15.177.%d.%d", i/250, i%250+1), Region: checkerRegions[i%len(checkerRegions)], CheckedTime: now, Status: status,
		})
	}
	writeXML(w, http.StatusOK, resp)
	return ""
}

func (c *change) info() changeInfo {
	status := "PENDING"
	if c.insync {
		status = "INSYNC"
	}
	return changeInfo{ID: "/change/" + c.id, Status: status, SubmittedAt: c.submitted.UTC().Format(time.RFC3339), Comment: c.comment}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, z *zone) string {
	q := r.URL.Query()
	name, typ, id := q.Get("name"), q.Get("type"), q.Get("identifier")
	if (typ != "" && name == "") || (id != "" && typ == "") {
		return writeError(w, http.StatusBadRequest, "InvalidInput", "The input is not valid: type needs name, identifier needs type")
	}
	maxItems := 300
	if v := q.Get("maxitems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return writeError(w, http.StatusBadRequest, "InvalidInput", "maxitems must be a positive number")
		}
		maxItems = min(n, 300)
	}
	page, next := z.list(name, typ, id, maxItems)
	resp := listResponse{Xmlns: xmlns, Sets: page, MaxItems: strconv.Itoa(maxItems)}
	if next != nil {
		resp.IsTruncated, resp.NextRecordName, resp.NextRecordType, resp.NextRecordIdentifier = true, next.Name, next.Type, next.SetIdentifier
	}
	writeXML(w, http.StatusOK, resp)
	return ""
}

func (s *Server) change(w http.ResponseWriter, r *http.Request, z *zone) string {
	var req changeRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = xml.Unmarshal(body, &req)
	}
	if err != nil || len(req.Changes) == 0 {
		return writeError(w, http.StatusBadRequest, "InvalidInput", fmt.Sprintf("Invalid XML or no changes: %v", err))
	}
	after, msgs := z.apply(&req)
	if len(msgs) > 0 {
		writeXML(w, http.StatusBadRequest, invalidChangeBatch{Xmlns: xmlns, Messages: msgs, RequestID: "local"})
		return "InvalidChangeBatch"
	}
	s.seq++
	c := &change{id: fmt.Sprintf("C%08d", s.seq), zone: z, submitted: time.Now(), comment: req.Comment, after: after}
	z.sets = after
	s.changes[c.id] = c
	s.pending = append(s.pending, c)
	s.advance(time.Now())
	writeXML(w, http.StatusOK, changeResponse{Xmlns: xmlns, Info: c.info()})
	return ""
}

func writeError(w http.ResponseWriter, status int, code, msg string) string {
	e := errorResponse{Xmlns: xmlns, RequestID: "local"}
	e.Error.Type, e.Error.Code, e.Error.Message = "Sender", code, msg
	writeXML(w, status, e)
	return code
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", "local")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(v)
}
