package proxy

import (
	"errors"
	"io"
	"net"

	"github.com/valyala/fasthttp"
)

// upload is the backend's copy of a request with a body. fasthttp reads a client's
// body (and parses its chunks) only while it copies it to the backend, so an error
// there may be the client's or the backend's; reading the body through body tells
// the two apart. Only requests with a body take this path.
type upload struct {
	req  fasthttp.Request
	body bodyReader
}

// acquireUpload returns the backend's copy of ctx's request, reading its body through
// an upload's bodyReader that fails once more than limit bytes came.
func (p *Proxy) acquireUpload(ctx *fasthttp.RequestCtx, limit int) *upload {
	up, _ := p.uploads.Get().(*upload)
	if up == nil {
		up = &upload{}
	}
	in := &ctx.Request
	in.Header.CopyTo(&up.req.Header)
	up.req.SetURI(in.URI())
	up.req.UseHostHeader = in.UseHostHeader
	size := in.Header.ContentLength()
	up.body = bodyReader{r: in.BodyStream(), want: size, limit: limit, in: &in.Header, out: &up.req.Header}
	up.req.SetBodyStream(&up.body, size)
	return up
}

func (p *Proxy) releaseUpload(up *upload) {
	up.req.Reset()
	up.body = bodyReader{}
	p.uploads.Put(up)
}

// errBodyTooLarge is the failure of a body longer than limits.maxRequestBody.
var errBodyTooLarge = errors.New("the request body is larger than limits.maxRequestBody")

// bodyReader passes a client's request body on and remembers why reading it failed.
// fasthttp refuses a Content-Length over the limit before the request reaches the
// proxy, but streams a chunked body of any length: limit bounds that one.
type bodyReader struct {
	r     io.Reader
	want  int // the Content-Length, or -1 for a chunked body
	limit int
	read  int
	eof   bool
	err   error
	// in and out are the client's and the backend's request headers: fasthttp reads a
	// chunked body's trailer into in at its end, after out was copied from it.
	in, out *fasthttp.RequestHeader
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if b.read+n > b.limit {
		// Not a byte past the limit goes to the backend.
		n, b.read, b.err = b.limit-b.read, b.limit, errBodyTooLarge
		return n, b.err
	}
	b.read += n
	if err == io.EOF {
		b.eof = true
	}
	switch {
	case err == io.EOF && b.want < 0:
		for _, key := range b.in.PeekTrailerKeys() {
			b.out.SetBytesKV(key, b.in.PeekBytes(key))
		}
	case err == nil:
	case err == io.EOF && b.want >= 0 && b.read < b.want:
		// fasthttp ends a fixed-length body early at a closed connection.
		b.err = io.ErrUnexpectedEOF
	case err != io.EOF && b.err == nil:
		b.err = err
	}
	return n, err
}

// complete says the whole body was read: its Content-Length, or its chunks to the end.
func (b *bodyReader) complete() bool {
	return b.eof || (b.want >= 0 && b.read >= b.want)
}

// failure says how the client broke its body, if it did.
func (b *bodyReader) failure() clientFailure {
	var ne net.Error
	switch {
	case b.err == nil:
		return clientOK
	case b.err == errBodyTooLarge:
		return clientTooLarge
	case errors.As(b.err, &ne) && ne.Timeout():
		return clientTooSlow
	case errors.Is(b.err, io.EOF), errors.Is(b.err, io.ErrUnexpectedEOF), errors.As(b.err, new(*net.OpError)):
		return clientAborted
	}
	return clientMalformed
}

// clientFailure says how a client broke its request, if it did.
type clientFailure uint8

const (
	clientOK clientFailure = iota
	// clientAborted: the client closed or reset its connection mid-request.
	clientAborted
	// clientTooSlow: the client did not send its request within timeouts.clientRead.
	clientTooSlow
	// clientMalformed: the client sent a body that does not parse (broken chunks).
	clientMalformed
	// clientTooLarge: the client sent a chunked body over limits.maxRequestBody.
	clientTooLarge
	// clientHeaderTooLarge: the client sent a head over limits.maxRequestHeader. No side
	// is chosen yet: it is only in the access log.
	clientHeaderTooLarge
)

// allClientFailures are the failures counted per side, in metric order.
var allClientFailures = [...]clientFailure{clientAborted, clientTooSlow, clientMalformed, clientTooLarge}

// String is the failure's name in logs and metrics.
func (f clientFailure) String() string {
	return [...]string{"", "aborted", "timeout", "malformed", "too_large", "header_too_large"}[f]
}

// logStatus is the status an access log shows for the failure: nginx's 499 for a
// client that went away, else the status the client is answered with.
func (f clientFailure) logStatus() int {
	if f == clientAborted {
		return 499
	}
	return f.status()
}

// status is the status a client that broke its request is answered with.
func (f clientFailure) status() int {
	switch f {
	case clientTooSlow:
		return fasthttp.StatusRequestTimeout
	case clientTooLarge:
		return fasthttp.StatusRequestEntityTooLarge
	}
	return fasthttp.StatusBadRequest
}
