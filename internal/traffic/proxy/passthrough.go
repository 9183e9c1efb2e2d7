package proxy

import (
	"sync"

	"github.com/valyala/fasthttp"
)

// passThrough is the transport of the backends' clients: fasthttp's own, except that
// the response keeps the server's "no default headers" settings. HostClient.Do resets
// the response it fills, and with it those settings, after which fasthttp would write
// a Date (replacing the backend's), a Content-Type and the server's name that the
// backend never sent. fasthttp has no setter for them other than the server's own, so
// they are copied from an untouched response header of the server.
type passThrough struct{ template *respHeaderTemplate }

// RoundTrip implements fasthttp.RoundTripper.
func (t passThrough) RoundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	t.template.copyTo(&resp.Header)
	return fasthttp.DefaultTransport.RoundTrip(hc, req, resp)
}

// respHeaderTemplate is an empty response header with the server's settings.
type respHeaderTemplate struct {
	once   sync.Once
	header fasthttp.ResponseHeader
}

// capture copies h, a response header the server has just handed to the handler, the
// first time it is called.
func (t *respHeaderTemplate) capture(h *fasthttp.ResponseHeader) {
	t.once.Do(func() {
		h.CopyTo(&t.header)
		t.header.ResetConnectionClose()
	})
}

// copyTo gives dst, which HostClient.Do has just reset, the server's settings.
func (t *respHeaderTemplate) copyTo(dst *fasthttp.ResponseHeader) {
	t.header.CopyTo(dst)
}
