// Command demo-traffic stands in for real servers and users in ferry's demos, on
// loopback only:
//
//	demo-traffic backend -listen 127.0.0.1:8081 -name legacy-1 -latency 5ms-15ms -errors-file F
//	demo-traffic load -url http://127.0.0.1:8080/ -rate 2000
//
// A backend answers after a latency drawn from its range, and with HTTP 500 at the
// rate written in its errors file (re-read every half second; empty or missing: 0).
package main
