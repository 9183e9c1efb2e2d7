package albtest

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// TB is the part of testing.TB the server uses.
type TB interface {
	Helper()
	Cleanup(func())
}

// Target is one registered target and its health as DescribeTargetHealth reports it.
type Target struct {
	// ID is an instance ID or an IP address; Port its port.
	ID   string
	Port int
	// State is the target's health state: initial, healthy, unhealthy,
	// unhealthy.draining, unused, draining or unavailable. Reason and Description
	// explain any state but healthy (Reason e.g. Target.Timeout).
	State, Reason, Description string
	// Override is the administrative override's state, e.g. zonal_shift_active; empty
	// reports no_override.
	Override string
}

// Call is one request the server answered.
type Call struct {
	Action string
	// Region is the region the request was signed for (its credential scope).
	Region string
	// TargetGroupARN is the target group asked about.
	TargetGroupARN string
	Code           string // the error code answered, "" on success
}

// Server is a local Elastic Load Balancing v2 API.
type Server struct {
	*httptest.Server
	mu     sync.Mutex
	groups map[string][]Target // by target group ARN
	calls  []Call
}

// NewServer starts a server that knows no target group.
func NewServer(tb TB) *Server {
	tb.Helper()
	s := &Server{groups: map[string][]Target{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// SetTargets makes target group arn known with these targets registered, replacing
// any it had; no targets is an empty target group.
func (s *Server) SetTargets(arn string, targets ...Target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[arn] = append([]Target(nil), targets...)
}

// DeleteTargetGroup makes target group arn unknown.
func (s *Server) DeleteTargetGroup(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups, arn)
}

// Calls returns the requests answered so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	call := Call{Region: signedRegion(r.Header.Get("Authorization"))}
	call.Code = s.answer(w, r, &call)
	s.calls = append(s.calls, call)
}

// answer serves one request and returns the error code it answered with, if any.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, call *Call) string {
	// The query API takes a form POSTed to /; GET with a query string works on AWS
	// too, but the SDK posts.
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return writeError(w, http.StatusBadRequest, "InvalidAction", "The action or operation requested is invalid: "+r.Method+" "+r.URL.Path)
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return writeError(w, http.StatusBadRequest, "MalformedInput", "Content-Type must be application/x-www-form-urlencoded")
	}
	// Requests are signed with Signature Version 4; without a signature AWS refuses.
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=") {
		return writeError(w, http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	if err := r.ParseForm(); err != nil {
		return writeError(w, http.StatusBadRequest, "MalformedQueryString", err.Error())
	}
	call.Action, call.TargetGroupARN = r.PostForm.Get("Action"), r.PostForm.Get("TargetGroupArn")
	switch {
	case call.Action != "DescribeTargetHealth":
		return writeError(w, http.StatusBadRequest, "InvalidAction", "The action "+call.Action+" is not valid for this endpoint.")
	case r.PostForm.Get("Version") != version:
		return writeError(w, http.StatusBadRequest, "InvalidParameterValue", "Version "+r.PostForm.Get("Version")+" is not supported; this endpoint speaks "+version)
	case call.TargetGroupARN == "":
		return writeError(w, http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'targetGroupArn' failed to satisfy constraint: Member must not be null")
	case !strings.Contains(call.TargetGroupARN, ":targetgroup/"):
		return writeError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("'%s' is not a valid target group ARN", call.TargetGroupARN))
	}
	targets, ok := s.groups[call.TargetGroupARN]
	if !ok {
		return writeError(w, http.StatusBadRequest, "TargetGroupNotFound", fmt.Sprintf("Target groups '%s' not found", call.TargetGroupARN))
	}
	resp := describeTargetHealthResponse{Xmlns: xmlns, RequestID: requestID}
	for _, t := range targets {
		resp.Result.Descriptions = append(resp.Result.Descriptions, describe(t))
	}
	writeXML(w, http.StatusOK, resp)
	return ""
}

// signedRegion returns the region of a Signature Version 4 credential scope,
// Credential=AKID/20260101/eu-west-1/elasticloadbalancing/aws4_request.
func signedRegion(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	if parts := strings.Split(cred, "/"); len(parts) == 5 {
		return parts[2]
	}
	return ""
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprint(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(v)
}

// writeError answers with the query API's error document and returns the code.
func writeError(w http.ResponseWriter, status int, code, msg string) string {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	writeXML(w, status, errorResponse{Xmlns: xmlns, Error: apiError{Type: typ, Code: code, Message: msg}, RequestID: requestID})
	return code
}
