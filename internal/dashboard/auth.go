package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// viewer is the person behind a request.
type viewer struct {
	User   string
	UID    string
	Groups []string
	Extra  map[string]authzv1.ExtraValue
	// token is the bearer token the viewer sent (ModeCluster): actions are carried
	// out with it, so the API server checks them once more.
	token string
	// key identifies the viewer's session; the CSRF token is derived from it.
	key string
}

const (
	cookieName   = "ferry_session"
	sessionTTL   = 12 * time.Hour
	tokenReuse   = time.Minute // how long a TokenReview answer stands
	csrfField    = "csrf"
	csrfHeader   = "X-CSRF-Token"
	maxTokenSize = 16 << 10
)

// errNoToken means the request carries no credentials at all.
var errNoToken = errors.New("no token")

// sessions are the logged-in browsers and the TokenReview answers of the last minute.
type sessions struct {
	key []byte // signs CSRF tokens

	mu       sync.Mutex
	byID     map[string]*session
	reviewed map[string]reviewed // by sha256 of the token
}

type session struct {
	token   string  // ModeCluster: the pasted token, reviewed again as it ages
	viewer  *viewer // ModeLocal: the kubeconfig's user
	expires time.Time
}

type reviewed struct {
	v       *viewer
	expires time.Time
}

func newSessions() *sessions {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &sessions{key: key, byID: map[string]*session{}, reviewed: map[string]reviewed{}}
}

func (ss *sessions) open(sess *session) string {
	id := randomToken()
	sess.expires = time.Now().Add(sessionTTL)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.byID[id] = sess
	return id
}

func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	sess := ss.byID[id]
	if sess == nil || time.Now().After(sess.expires) {
		delete(ss.byID, id)
		return nil
	}
	return sess
}

func (ss *sessions) close(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, id)
}

// expireEvery drops expired sessions and reviews until ctx ends.
func (ss *sessions) expireEvery(ctx context.Context, d time.Duration) {
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				ss.mu.Lock()
				for id, s := range ss.byID {
					if now.After(s.expires) {
						delete(ss.byID, id)
					}
				}
				for h, r := range ss.reviewed {
					if now.After(r.expires) {
						delete(ss.reviewed, h)
					}
				}
				ss.mu.Unlock()
			}
		}
	}()
}

// csrf is the CSRF token of a session: a MAC of its key, so it needs no storage.
func (ss *sessions) csrf(v *viewer) string {
	m := hmac.New(sha256.New, ss.key)
	m.Write([]byte(v.key))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (ss *sessions) checkCSRF(r *http.Request, v *viewer) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf(v))) == 1
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// authenticate returns the viewer of r, errNoToken without credentials, or another
// error when the credentials are refused.
func (s *Server) authenticate(r *http.Request) (*viewer, error) {
	if s.cfg.Mode == ModeLocal {
		c, err := r.Cookie(cookieName)
		if err != nil {
			return nil, errNoToken
		}
		sess := s.sessions.get(c.Value)
		if sess == nil {
			return nil, errors.New("the session has ended")
		}
		return sess.viewer, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			return nil, errors.New("the Authorization header is not a bearer token")
		}
		v, err := s.reviewToken(r.Context(), strings.TrimSpace(token))
		if err != nil {
			return nil, err
		}
		return v, nil
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil, errNoToken
	}
	sess := s.sessions.get(c.Value)
	if sess == nil {
		return nil, errors.New("the session has ended")
	}
	v, err := s.reviewToken(r.Context(), sess.token)
	if err != nil {
		return nil, err
	}
	cp := *v
	cp.key = "session:" + c.Value
	return &cp, nil
}

// reviewToken asks the API server whose token this is (TokenReview); an answer
// stands for a minute.
func (s *Server) reviewToken(ctx context.Context, token string) (*viewer, error) {
	h := hashToken(token)
	s.sessions.mu.Lock()
	rv, ok := s.sessions.reviewed[h]
	s.sessions.mu.Unlock()
	if ok && time.Now().Before(rv.expires) {
		return rv.v, nil
	}
	tr, err := s.kube.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("the token could not be checked: %w", err)
	}
	if !tr.Status.Authenticated {
		return nil, errors.New("the API server does not accept this token")
	}
	u := tr.Status.User
	v := &viewer{User: u.Username, UID: u.UID, Groups: u.Groups, token: token, key: "token:" + h}
	if len(u.Extra) > 0 {
		v.Extra = map[string]authzv1.ExtraValue{}
		for k, e := range u.Extra {
			v.Extra[k] = authzv1.ExtraValue(e)
		}
	}
	s.sessions.mu.Lock()
	s.sessions.reviewed[h] = reviewed{v: v, expires: time.Now().Add(tokenReuse)}
	s.sessions.mu.Unlock()
	return v, nil
}

// localHost reports whether r was addressed to the loopback address by name: a page
// of another site that resolves its own name to 127.0.0.1 (DNS rebinding) is refused.
func localHost(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	return host == "127.0.0.1" || host == "localhost"
}

func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func (s *Server) setSession(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: id, Path: "/", HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL / time.Second),
	})
}

// handleLogin opens a session: in ModeLocal from the printed one-time link, in
// ModeCluster from a token pasted into the form.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Mode == ModeLocal {
		got := r.URL.Query().Get("token")
		s.sessions.mu.Lock()
		want := s.loginToken
		ok := want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
		if ok {
			s.loginToken = "" // the link works once
		}
		s.sessions.mu.Unlock()
		if !ok {
			s.unauthorized(w, r, "This link was used already or is wrong: start ferry dashboard again for a new one.")
			return
		}
		v := s.localViewer(r.Context())
		id := s.sessions.open(&session{viewer: v})
		v.key = "session:" + id
		s.setSession(w, r, id)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if r.Method == http.MethodGet {
		s.render(w, r, http.StatusOK, "login", &page{Title: "Sign in"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenSize)
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" {
		s.unauthorized(w, r, "Paste a token to sign in.")
		return
	}
	if _, err := s.reviewToken(r.Context(), token); err != nil {
		s.unauthorized(w, r, "That token was refused: "+err.Error()+".")
		return
	}
	s.setSession(w, r, s.sessions.open(&session{token: token}))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		s.sessions.close(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	if s.cfg.Mode == ModeLocal {
		s.unauthorized(w, r, "Signed out. Start ferry dashboard again to sign in.")
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// localViewer names the kubeconfig's user as the API server knows it.
func (s *Server) localViewer(ctx context.Context) *viewer {
	v := &viewer{User: "you (kubeconfig)"}
	rv, err := s.kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err == nil && rv.Status.UserInfo.Username != "" {
		v.User = rv.Status.UserInfo.Username
	}
	return v
}
