// Command loadtest measures ferry loadtest itself against a local server: the rate it
// achieves and how closely it keeps its schedule at several rates, and its top rate
// beside wrk's. It only talks to 127.0.0.1 and imports nothing of ferry's.
package main
