package lint

// Rule is one preflight check: an ID that never changes meaning, a severity, and a
// short doc (what it catches, why it matters, how to fix it).
type Rule struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	What     string   `json:"what"`
	Why      string   `json:"why"`
	Fix      string   `json:"fix"`
	check    func(s *set, o *object) []problem
}

// problem is what a check found: where in the object, and what.
type problem struct {
	field   string
	message string
}

// Rules returns every rule, in the order reports list them.
func Rules() []Rule {
	return []Rule{
		{
			ID: "FERRY-CRON-001", Severity: Error, check: checkSuspendDeadline,
			Title: "CronJob can be suspended but misses no deadline",
			What:  "A CronJob sets `suspend` (true or false) without `startingDeadlineSeconds`, or with one as long as the time between runs.",
			Why:   "When `suspend` goes from true to false, the controller starts the last missed run at once if it is within the deadline, and without a deadline it always is: a midnight batch runs at noon on cutover day. After 100 missed runs it stops scheduling altogether.",
			Fix:   "Set `startingDeadlineSeconds` shorter than the time between runs, such as 300.",
		},
		{
			ID: "FERRY-CRON-002", Severity: Warning, check: checkConcurrency,
			Title: "CronJob allows overlapping runs",
			What:  "`concurrencyPolicy` is `Allow`, or not set, which means `Allow`.",
			Why:   "A slow run and the next one run side by side; batches written for cron on one host rarely expect that, and a stuck run piles up copies.",
			Fix:   "Set `concurrencyPolicy: Forbid` (skip a run while one is running) or `Replace`.",
		},
		{
			ID: "FERRY-CRON-003", Severity: Warning, check: checkTimeZone,
			Title: "CronJob has no time zone",
			What:  "`timeZone` is not set.",
			Why:   "The schedule is then read in the kube-controller-manager's zone, usually UTC, while the legacy crontab ran in the server's local zone: a 0:00 JST batch runs at 9:00 JST.",
			Fix:   "Set `timeZone` to the legacy server's IANA zone, such as `Asia/Tokyo`.",
		},
		{
			ID: "FERRY-CRON-004", Severity: Warning, check: checkDeadlineVsSchedule,
			Title: "CronJob runs may outlast the schedule",
			What:  "The job's `activeDeadlineSeconds` is longer than the shortest time between two runs of the schedule.",
			Why:   "A run allowed to take longer than the gap to the next one makes the next run skipped (Forbid), killed (Replace) or run alongside (Allow).",
			Fix:   "Lower `activeDeadlineSeconds` to at most the time between runs, or run the job less often.",
		},
		{
			ID: "FERRY-CRON-005", Severity: Info, check: checkHistoryLimits,
			Title: "CronJob keeps the default history",
			What:  "`successfulJobsHistoryLimit` or `failedJobsHistoryLimit` is not set.",
			Why:   "The defaults keep 3 successful and 1 failed Job: after two failures the evidence of the first is gone.",
			Fix:   "Set both limits explicitly, such as 3 and 3.",
		},
		{
			ID: "FERRY-CRON-006", Severity: Warning, check: checkActiveDeadline,
			Title: "CronJob runs have no deadline",
			What:  "The job template has no `activeDeadlineSeconds`.",
			Why:   "A run that hangs runs forever; with `concurrencyPolicy: Forbid` it blocks every later run.",
			Fix:   "Set `spec.jobTemplate.spec.activeDeadlineSeconds` to the longest a run may take.",
		},
		{
			ID: "FERRY-CRON-007", Severity: Error, check: checkSchedule,
			Title: "CronJob schedule is not valid in Kubernetes",
			What:  "The schedule does not parse as Kubernetes reads it, for example 7 for Sunday or a `CRON_TZ=` prefix.",
			Why:   "The API server refuses the CronJob, so the deploy fails; crontab syntax that cron accepted is not always valid here.",
			Fix:   "Use five fields with day-of-week 0-6 (0 is Sunday) and put the zone in `timeZone`; `ferry import crontab` translates them.",
		},
		{
			ID: "FERRY-SHUT-001", Severity: Warning, check: checkPreStop,
			Title: "Serving container stops without a preStop delay",
			What:  "A container of a Deployment, StatefulSet, DaemonSet or ReplicaSet that takes traffic (declares a port, or is selected by a Service) has no `lifecycle.preStop`.",
			Why:   "A terminating pod gets SIGTERM while Services and load balancers still send it requests for a few seconds: without a delay those requests fail on every deploy and node drain.",
			Fix:   "Add `lifecycle.preStop.sleep.seconds` (such as 10-15) so the pod leaves the endpoints before the app starts shutting down.",
		},
		{
			ID: "FERRY-SHUT-002", Severity: Error, check: checkGracePeriod,
			Title: "Grace period shorter than the drain",
			What:  "`terminationGracePeriodSeconds` (default 30) is shorter than a container's preStop delay plus the time the app needs to finish its requests after SIGTERM (the `ferry.dev/drain-seconds` annotation, default 5).",
			Why:   "The grace period counts from the start of preStop; when it runs out the app is killed mid-request, which is the unclean shutdown of the legacy fleet all over again.",
			Fix:   "Raise `terminationGracePeriodSeconds` above preStop plus drain, or shorten the preStop delay.",
		},
		{
			ID: "FERRY-PROBE-001", Severity: Error, check: checkReadiness,
			Title: "Serving container has no readiness probe",
			What:  "A container that takes traffic has no `readinessProbe`.",
			Why:   "Without one a pod is ready as soon as its process starts, so a rolling update sends requests to apps still booting and takes old pods away before new ones can serve.",
			Fix:   "Add a `readinessProbe` on an endpoint that answers once the app can serve, such as `httpGet: {path: /healthz, port: http}`.",
		},
		{
			ID: "FERRY-PROBE-002", Severity: Warning, check: checkLivenessSameAsReadiness,
			Title: "Liveness probe is the readiness probe",
			What:  "A container's `livenessProbe` checks exactly what its `readinessProbe` checks.",
			Why:   "When the app is slow under load both fail together: readiness takes it out of the endpoints, which is right, and liveness restarts it, which makes the overload worse and can restart every pod at once.",
			Fix:   "Make the liveness probe check only that the process is alive (a cheap endpoint, a higher failureThreshold), or leave it out.",
		},
		{
			ID: "FERRY-ROLL-001", Severity: Error, check: checkRollout,
			Title: "Rollout can take every pod down",
			What:  "A Deployment uses the `Recreate` strategy, or a rolling update whose `maxUnavailable` (after rounding, with `maxSurge`) covers all replicas.",
			Why:   "Every deploy then has a moment with no ready pod: an outage on each release, the very thing rolling updates exist to prevent.",
			Fix:   "Use `RollingUpdate` with `maxUnavailable: 0` and `maxSurge: 25%` (or at least one replica more than maxUnavailable).",
		},
		{
			ID: "FERRY-IMG-001", Severity: Error, check: checkImageTags,
			Title: "Image has a mutable tag",
			What:  "A container image has no tag or the tag `latest` (containers that ferry deploy sets the image of are exempt).",
			Why:   "A mutable tag can point to different code on different nodes and after a restart, and a rollback cannot bring the old code back.",
			Fix:   "Pin an immutable tag (such as a date and commit) or a digest.",
		},
		{
			ID: "FERRY-ENV-001", Severity: Error, check: checkLegacyVars,
			Title: "Legacy environment variable missing",
			What:  "A variable the legacy app had (from `--env-file`, `--env-list`) is not given to an app container, by `env` or by `envFrom` of a ConfigMap or Secret in the manifests.",
			Why:   "Missing variables broke the first rehearsals of moves like this one: the app boots, then fails on the first request that needs them.",
			Fix:   "Add the variables (`ferry import env` turns a .env into a ConfigMap and a Secret), or annotate the object to ignore the rule if the app no longer needs them.",
		},
		{
			ID: "FERRY-ENV-002", Severity: Error, check: checkConfigMapRefs,
			Title: "Referenced ConfigMap missing",
			What:  "A pod refers (by `envFrom`, `configMapKeyRef` or a volume, not marked optional) to a ConfigMap, or a key of one, that the manifests do not have.",
			Why:   "Pods that refer to a missing ConfigMap do not start (CreateContainerConfigError), so the deploy fails and rolls back.",
			Fix:   "Add the ConfigMap or key to the manifests, fix the name, or mark the reference `optional: true`.",
		},
		{
			ID: "FERRY-ENV-003", Severity: Warning, check: checkSecretRefs,
			Title: "Referenced Secret not in the manifests",
			What:  "A pod refers (by `envFrom`, `secretKeyRef` or a volume, not marked optional) to a Secret, or a key of one, that the manifests do not have.",
			Why:   "Secrets are often created outside the manifests, which is fine; if this one is not, the pods will not start.",
			Fix:   "Make sure the Secret exists in the namespace before deploying (for example from `ferry import env`), or add it to the manifests.",
		},
		{
			ID: "FERRY-ENV-004", Severity: Warning, check: checkLinkedPaths,
			Title: "Capistrano linked file not provided",
			What:  "A file or directory that Capistrano linked into every release (`linked_files`, `linked_dirs` from `--capistrano`) is neither mounted into an app container nor replaced by the variables the app's framework reads instead. The framework (Rails, Laravel, Symfony or plain PHP) is told by the app's files beside the Capistrano config (composer.json, artisan, bin/console, Gemfile), else by the config, the linked paths, the variables or the jobs' commands. Rails: config/database.yml by DATABASE_URL, config/master.key by RAILS_MASTER_KEY, config/secrets.yml by SECRET_KEY_BASE. Laravel: .env by APP_KEY and DB_* (or DATABASE_URL), storage by FILESYSTEM_DISK and SESSION_DRIVER (not local, public or file), storage/framework/sessions by SESSION_DRIVER, Passport's keys by PASSPORT_PRIVATE_KEY and PASSPORT_PUBLIC_KEY. Symfony: .env and .env.local by APP_SECRET, the secrets' decryption key by SYMFONY_DECRYPTION_SECRET. Build output and scratch are left out: logs, tmp and node_modules; Rails' bundle, asset and tmp directories; Composer's vendor; Laravel's bootstrap/cache and storage logs, views and cache; Symfony's var.",
			Why:   "These files lived on the servers, outside the code: the image does not have them, and the app fails at boot or on first use.",
			Fix:   "Mount the file from a Secret or ConfigMap at the app's path (subPath for a single file), put uploads in a volume or object storage and sessions in Redis or the database, or set the variables that replace it; the finding says which for each path.",
		},
		{
			ID: "FERRY-RES-001", Severity: Warning, check: checkRequests,
			Title: "Container has no resource requests",
			What:  "A container has no CPU or no memory request.",
			Why:   "The scheduler then packs pods blindly and the pods are the first evicted under pressure; scale-out and autoscaling need requests to work.",
			Fix:   "Set `resources.requests.cpu` and `resources.requests.memory` from the legacy servers' measured use per process.",
		},
		{
			ID: "FERRY-RES-002", Severity: Warning, check: checkMemoryLimit,
			Title: "Container has no memory limit",
			What:  "A container has no memory limit.",
			Why:   "A leaking worker (a familiar sight in long-running Ruby and PHP processes) then grows until the node runs out of memory and takes its neighbours down.",
			Fix:   "Set `resources.limits.memory`, typically 1.5-2 times the request.",
		},
		{
			ID: "FERRY-RES-003", Severity: Warning, check: checkDisruptionBudget,
			Title: "Multi-replica workload has no PodDisruptionBudget",
			What:  "A Deployment or StatefulSet with 2 or more replicas has no PodDisruptionBudget in the manifests that selects its pods.",
			Why:   "A node drain or cluster upgrade may then evict all replicas at once.",
			Fix:   "Add a PodDisruptionBudget with `maxUnavailable` (such as 10%) selecting the pod labels.",
		},
		{
			ID: "FERRY-PSS-001", Severity: Warning, check: checkRunAsNonRoot,
			Title: "Container may run as root",
			What:  "A container does not run as non-root: neither it nor its pod sets `runAsNonRoot: true`, it sets it to false, or the pod or container sets `runAsUser: 0` (the restricted Pod Security Standard).",
			Why:   "A process that is root in the container is root on the node the moment it escapes, and a namespace that enforces the restricted standard refuses the pod. Legacy images often run as root only out of habit.",
			Fix:   "Set `securityContext.runAsNonRoot: true` on the pod, with `runAsUser` (such as 65532) when the image's user is a name; change the image's USER if it needs root.",
		},
		{
			ID: "FERRY-PSS-002", Severity: Warning, check: checkPrivilegeEscalation,
			Title: "Container may escalate privileges",
			What:  "A container does not set `securityContext.allowPrivilegeEscalation: false` (the restricted Pod Security Standard; Windows pods are exempt).",
			Why:   "Without it a setuid binary or file capability in the image gives its process more privileges than its parent had, which is how a foothold in the app becomes root.",
			Fix:   "Set `securityContext.allowPrivilegeEscalation: false` on every container, init containers included.",
		},
		{
			ID: "FERRY-PSS-003", Severity: Warning, check: checkCapabilities,
			Title: "Container keeps Linux capabilities",
			What:  "A container does not drop `ALL` capabilities, or adds one other than `NET_BIND_SERVICE` (the restricted Pod Security Standard; Windows pods are exempt).",
			Why:   "The runtime's default set includes capabilities such as NET_RAW and CHOWN that a web app never needs and an attacker can use.",
			Fix:   "Set `securityContext.capabilities.drop: [ALL]`, and add back only `NET_BIND_SERVICE` if the app must listen on a port below 1024 (better: listen on 8080).",
		},
		{
			ID: "FERRY-PSS-004", Severity: Warning, check: checkSeccomp,
			Title: "Container has no seccomp profile",
			What:  "Neither a container nor its pod sets `securityContext.seccompProfile.type` to `RuntimeDefault` or `Localhost`, or one sets `Unconfined` (the restricted Pod Security Standard; Windows pods are exempt).",
			Why:   "Without a profile every system call of the kernel is open to the container, the rarely used ones with the kernel's exploitable bugs included.",
			Fix:   "Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.",
		},
		{
			ID: "FERRY-PSS-005", Severity: Error, check: checkPrivileged,
			Title: "Privileged container",
			What:  "A container sets `securityContext.privileged: true` (forbidden from the baseline Pod Security Standard up).",
			Why:   "A privileged container has every device and capability of the node: it is root on the node, and one bug in the app hands over the node and its other pods.",
			Fix:   "Remove `privileged`; grant the one capability the app needs instead, or run the task outside the app's pods.",
		},
		{
			ID: "FERRY-PSS-006", Severity: Error, check: checkHostNamespaces,
			Title: "Pod shares the node's namespaces",
			What:  "A pod sets `hostNetwork`, `hostPID` or `hostIPC` to true (forbidden from the baseline Pod Security Standard up).",
			Why:   "The pod then sees the node's network interfaces, processes or shared memory, and those of every other pod on the node; with hostNetwork two replicas on one node collide on their ports.",
			Fix:   "Remove the setting: expose ports through a Service, and read metrics from an exporter rather than the node's processes.",
		},
		{
			ID: "FERRY-PSS-007", Severity: Error, check: checkHostPath,
			Title: "Pod mounts a path of the node",
			What:  "A pod has a `hostPath` volume (forbidden from the baseline Pod Security Standard up).",
			Why:   "A path of the node gives the pod the node's files (its credentials and the container runtime's socket among them), and data written there stays on one node, which the next reschedule leaves behind: the legacy server's local disk all over again.",
			Fix:   "Use an `emptyDir` for scratch space, a PersistentVolumeClaim for data that must stay, or object storage for uploads.",
		},
		{
			ID: "FERRY-PSS-008", Severity: Warning, check: checkReadOnlyRoot,
			Title: "Container can write to its root file system",
			What:  "A container does not set `securityContext.readOnlyRootFilesystem: true` (Windows pods are exempt).",
			Why:   "Files written into the image's file system vanish with the pod, differ between replicas, and let an intruder change the app's code in place; a legacy app that writes next to its code (logs, caches, sessions, uploads) shows it here.",
			Fix:   "Set `securityContext.readOnlyRootFilesystem: true` and mount an `emptyDir` where the app writes scratch files (such as /tmp); send logs to stdout and sessions and uploads to a shared store.",
		},
		{
			ID: "FERRY-LINT-001", Severity: Error, check: checkDecodes,
			Title: "Object does not match its kind",
			What:  "An object of a kind the rules read (workloads, ConfigMaps, Secrets, Services, PodDisruptionBudgets) has a field of the wrong type.",
			Why:   "The API server would refuse it, and the other rules cannot check it.",
			Fix:   "Fix the field the message names.",
		},
		{
			ID: "FERRY-LINT-002", Severity: Warning, check: checkIgnoreList,
			Title: "lint-ignore names an unknown rule",
			What:  "The `ferry.dev/lint-ignore` annotation names a rule ID that does not exist.",
			Why:   "A typo silently ignores nothing.",
			Fix:   "Use the IDs `ferry lint --list-rules` prints, separated by commas.",
		},
	}
}
