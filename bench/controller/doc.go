// Command controller measures the cost of ferry controller with many Migrations at
// once: for each size (-sizes, default 20 and 200) it starts `ferry controller` as a
// child process on the local control plane, watching a namespace of its own, creates
// that many Migrations at the same moment and waits until all are Completed. It
// reports the reconcile latency p50 and p99, the time a Migration waited in the
// controller's work queue, the child's peak memory (VmHWM of /proc/PID/status) and the
// time until the last Migration completed, and how each grows from the smallest size
// to the largest as a ratio.
//
// Latencies come from controller-runtime's own histograms, scraped from the child's
// metrics endpoint at the end of each size: controller_runtime_reconcile_time_seconds
// (one Reconcile call) and workqueue_queue_duration_seconds (from due to picked up),
// both for controller="migration". Quantiles are interpolated within buckets as
// Prometheus's histogram_quantile does, so they are as coarse as the buckets.
//
// The metrics are synthetic. The cost measured is the controller's, so the routers and
// metric sources must cost next to nothing: 200 embedded proxies with backends and load
// would take the machine from the controller, and their noise would be what is
// measured. Instead one small HTTP server in this process speaks the proxy admin API
// the proxy router and the proxy metric source use (GET and PUT /v1/weights, GET
// /v1/stats?bins=true&window=…), each Migration under a path of its own
// (http://127.0.0.1:PORT/m/NAMESPACE/INDEX as the admin URL). Its statistics are a
// steady 10 000 requests per second split by the weights last set, with the same 0.1 %
// of errors and the same latency distribution on both sides, so every gate passes as
// soon as its hold and minimum requests allow. The controller runs in its own process,
// so its peak memory does not include this server or the benchmark.
//
// The plans are short so that a run takes a few minutes: steps 1, 5, 10, 50, 100 %,
// interval 1s, warmup 1s, hold 1s per step, the final step judged with the default 1 %
// control.
//
// Run it with `make bench-controller`; -kubeconfig uses a running cluster instead of
// starting one (in namespaces of its own, deleted at the end). It installs the
// Migration CRD of this tree either way.
package main
