//go:build !linux

package proxy

import "errors"

// newPoller: parking needs epoll; elsewhere idle connections stay with fasthttp.
func newPoller(func(*parkConn), chan struct{}) (poller, error) {
	return nil, errors.New("parking idle connections needs Linux")
}
