package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Migration moves an app's traffic from its legacy hosts to Kubernetes in steps,
// judging each step with analysis gates and going back to legacy on its own when they
// fail. The spec is the migration plan; the status is the migration's recorded state,
// written by the controller before every action it takes.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=mig
// +kubebuilder:printcolumn:name="Step",type=string,JSONPath=`.status.stepDisplay`
// +kubebuilder:printcolumn:name="Weight",type=string,JSONPath=`.status.appliedWeight`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Gates",type=string,JSONPath=`.status.gateSummary`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Migration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MigrationSpec   `json:"spec"`
	Status MigrationStatus `json:"status,omitempty"`
}

// MigrationList is a list of Migrations.
//
// +kubebuilder:object:root=true
type MigrationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Migration `json:"items"`
}

// MigrationSpec is a migration plan as `ferry migrate start` reads it from a file,
// with secrets named by reference to a Secret in the Migration's namespace.
type MigrationSpec struct {
	// Steps are the Kubernetes shares to hold in turn, rising to 100; default 1, 5,
	// 10, 50, 100.
	//
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:XValidation:rule="self.all(s, double(s.weight.replace('%', '')) <= 100.0)",message="a step's weight is at most 100"
	// +kubebuilder:validation:XValidation:rule="self.map(s, double(s.weight.replace('%', ''))).isSorted() && self.all(a, self.filter(b, double(b.weight.replace('%', '')) == double(a.weight.replace('%', ''))).size() == 1)",message="weights must rise strictly from one step to the next"
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || double(self[size(self) - 1].weight.replace('%', '')) == 100.0",message="the last step must send 100% to Kubernetes"
	Steps []Step `json:"steps,omitempty"`
	// Router says where traffic is split.
	Router Router `json:"router"`
	// Metrics says where per-side request statistics come from.
	Metrics Metrics `json:"metrics"`
	// Gates tunes the analysis gates; a missing section uses defaults.
	//
	// +optional
	Gates Gates `json:"gates,omitempty"`
	// Warmup is left out of each step's window (default 30s).
	//
	// +optional
	Warmup *metav1.Duration `json:"warmup,omitempty"`
	// Interval between evaluations (default 5s).
	//
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`
	// Deadline fails a step that could not gather enough data within it (default 30m).
	//
	// +optional
	Deadline *metav1.Duration `json:"deadline,omitempty"`
	// Notify lists receivers of abort and completion messages.
	//
	// +optional
	// +kubebuilder:validation:MaxItems=10
	Notify []Notify `json:"notify,omitempty"`
	// Final says how the last step is judged.
	//
	// +optional
	Final Final `json:"final,omitempty"`
	// Guard says what is checked before a step up and before an abort.
	//
	// +optional
	Guard Guard `json:"guard,omitempty"`
	// Paused stops evaluations and weight changes until it is cleared; the weight
	// applied stays.
	//
	// +optional
	Paused bool `json:"paused,omitempty"`
}

// Step is one weight to hold until the gates pass.
type Step struct {
	// Weight is the Kubernetes share in percent, e.g. "5" or "0.5%".
	//
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:Pattern=`^[0-9]{1,3}(\.[0-9]{1,2})?%?$`
	Weight string `json:"weight"`
	// Hold is the minimum time at this weight (default 5m).
	//
	// +optional
	Hold *metav1.Duration `json:"hold,omitempty"`
	// MinRequests is the minimum number of requests on the Kubernetes side.
	//
	// +optional
	// +kubebuilder:validation:Minimum=0
	MinRequests int64 `json:"minRequests,omitempty"`
}

// Guard turns the checks made before a step up and before an abort on or off.
type Guard struct {
	// LegacyCapacity, on unless false, checks that legacy can take the traffic an
	// abort would send it: a step up holds while legacy could not take all of it, and
	// an abort sends legacy only as much as it can take, the rest following as it
	// recovers. The proxy tells by its healthy servers and their load, Route 53 and
	// ALB by the health AWS reports; with the Gateway API router it cannot check and
	// does not hold.
	//
	// +optional
	LegacyCapacity *bool `json:"legacyCapacity,omitempty"`
}

// Final says how the last step is judged.
type Final struct {
	// Control is the legacy share kept while the last step is judged, as a
	// concurrent control (default "1%"); "0" judges the last step at 100 % against
	// the previous step's Kubernetes side. At most 50 %.
	//
	// +optional
	// +kubebuilder:validation:MaxLength=6
	// +kubebuilder:validation:Pattern=`^[0-9]{1,2}(\.[0-9]{1,2})?%?$`
	Control string `json:"control,omitempty"`
}

// SecretKeyRef names one key of a Secret in the Migration's namespace.
type SecretKeyRef struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// Router names exactly one router.
//
// +kubebuilder:validation:XValidation:rule="[has(self.proxy), has(self.proxyFleet), has(self.route53), has(self.gateway), has(self.alb)].filter(x, x).size() == 1",message="name exactly one router: proxy, proxyFleet, route53, gateway or alb"
type Router struct {
	// +optional
	Proxy *ProxyRouter `json:"proxy,omitempty"`
	// ProxyFleet sets the weights on every ready replica of the proxy behind a
	// Service.
	//
	// +optional
	ProxyFleet *ProxyFleetRouter `json:"proxyFleet,omitempty"`
	// +optional
	Route53 *Route53Router `json:"route53,omitempty"`
	// +optional
	Gateway *GatewayRouter `json:"gateway,omitempty"`
	// +optional
	ALB *ALBRouter `json:"alb,omitempty"`
}

// ProxyRouter points at a running ferry proxy's admin API.
type ProxyRouter struct {
	// Admin is the admin API's base URL, e.g. http://ferry-proxy-admin:9901.
	//
	// +kubebuilder:validation:MinLength=1
	Admin string `json:"admin"`
	// TokenSecretRef holds the admin bearer token.
	//
	// +optional
	TokenSecretRef *SecretKeyRef `json:"tokenSecretRef,omitempty"`
}

// Route53Router names two weighted Route 53 records of one name, one per side.
type Route53Router struct {
	HostedZoneID string `json:"hostedZoneID"`
	Name         string `json:"name"`
	// +optional
	Type                    string `json:"type,omitempty"`
	LegacySetIdentifier     string `json:"legacySetIdentifier"`
	KubernetesSetIdentifier string `json:"kubernetesSetIdentifier"`
	// +optional
	Region string `json:"region,omitempty"`
	// +optional
	Endpoint string `json:"endpoint,omitempty"`
	// +optional
	Settle *metav1.Duration `json:"settle,omitempty"`
	// +optional
	SyncTimeout *metav1.Duration `json:"syncTimeout,omitempty"`
}

// GatewayRouter names a Gateway API HTTPRoute and the two Services it splits between.
type GatewayRouter struct {
	// Namespace holds the route and both Services (default: the Migration's).
	//
	// +optional
	Namespace         string `json:"namespace,omitempty"`
	HTTPRoute         string `json:"httpRoute"`
	LegacyService     string `json:"legacyService"`
	KubernetesService string `json:"kubernetesService"`
}

// ALBRouter names an Ingress's weighted forward action (AWS Load Balancer Controller).
type ALBRouter struct {
	// Namespace holds the Ingress (default: the Migration's).
	//
	// +optional
	Namespace            string `json:"namespace,omitempty"`
	Ingress              string `json:"ingress"`
	Action               string `json:"action"`
	LegacyTargetGroupARN string `json:"legacyTargetGroupARN"`
	KubernetesService    string `json:"kubernetesService"`
	// Endpoint replaces Elastic Load Balancing's (a VPC endpoint, a FIPS one), which
	// the legacy-capacity guard asks for the legacy target group's health in the ARN's
	// region.
	//
	// +optional
	// +kubebuilder:validation:Pattern=`^https?://`
	Endpoint string `json:"endpoint,omitempty"`
}

// Metrics names exactly one metric source.
//
// +kubebuilder:validation:XValidation:rule="[has(self.proxy), has(self.prometheus), has(self.datadog)].filter(x, x).size() == 1",message="name exactly one metric source: proxy, prometheus or datadog"
type Metrics struct {
	// Proxy uses the proxy router's own per-side statistics.
	//
	// +optional
	Proxy *ProxyMetrics `json:"proxy,omitempty"`
	// +optional
	Prometheus *PrometheusMetrics `json:"prometheus,omitempty"`
	// +optional
	Datadog *DatadogMetrics `json:"datadog,omitempty"`
}

// ProxyMetrics takes the statistics from the proxy router's admin API.
type ProxyMetrics struct{}

// PrometheusMetrics points at Prometheus; queries default to the proxy's metrics.
type PrometheusMetrics struct {
	// +kubebuilder:validation:MinLength=1
	Address string `json:"address"`
	// +optional
	BearerTokenSecretRef *SecretKeyRef `json:"bearerTokenSecretRef,omitempty"`
	// +optional
	Legacy string `json:"legacy,omitempty"`
	// +optional
	Kubernetes string `json:"kubernetes,omitempty"`
	// +optional
	Queries PrometheusQueries `json:"queries,omitempty"`
}

// PrometheusQueries are PromQL templates with {{.Side}} and {{.Window}}.
type PrometheusQueries struct {
	// +optional
	Requests string `json:"requests,omitempty"`
	// +optional
	Errors string `json:"errors,omitempty"`
	// +optional
	Latency string `json:"latency,omitempty"`
}

// DatadogMetrics points at Datadog's metrics query API.
type DatadogMetrics struct {
	// +optional
	Site            string       `json:"site,omitempty"`
	APIKeySecretRef SecretKeyRef `json:"apiKeySecretRef"`
	AppKeySecretRef SecretKeyRef `json:"appKeySecretRef"`
	// +optional
	Legacy string `json:"legacy,omitempty"`
	// +optional
	Kubernetes string         `json:"kubernetes,omitempty"`
	Queries    DatadogQueries `json:"queries"`
	// +optional
	// +kubebuilder:validation:Enum=s;ms;us
	LatencyUnit string `json:"latencyUnit,omitempty"`
	// +optional
	MinInterval *metav1.Duration `json:"minInterval,omitempty"`
}

// DatadogQueries are metric queries with {{.Side}}.
type DatadogQueries struct {
	Requests string `json:"requests"`
	Errors   string `json:"errors"`
	// +optional
	Latency map[string]string `json:"latency,omitempty"`
}

// Gates tunes the analysis gates.
type Gates struct {
	// +optional
	ErrorRate *ErrorRateGate `json:"errorRate,omitempty"`
	// +optional
	Latency *LatencyGate `json:"latency,omitempty"`
	// Endpoints tunes the per-endpoint gates: the error-rate and latency gates run on
	// each endpoint too (with the proxy's or Prometheus' metrics).
	//
	// +optional
	Endpoints *EndpointsGate `json:"endpoints,omitempty"`
	// Disable turns gates off by name; error-rate or latency must stay.
	//
	// +optional
	// +kubebuilder:validation:MaxItems=2
	// +kubebuilder:validation:items:Enum=error-rate;latency;endpoints
	// +kubebuilder:validation:XValidation:rule="!('error-rate' in self && 'latency' in self)",message="error-rate or latency must stay on"
	Disable []string `json:"disable,omitempty"`
}

// EndpointsGate tunes the per-endpoint gates. Endpoints are named as the proxy names
// them, "GET /users/{id}"; a template alone ("/healthz") names it for every method.
type EndpointsGate struct {
	// Critical endpoints must have enough data, and pass, before a step passes.
	//
	// +optional
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=512
	Critical []string `json:"critical,omitempty"`
	// Ignore leaves endpoints out of the per-endpoint gates.
	//
	// +optional
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=512
	Ignore []string `json:"ignore,omitempty"`
	// MaxEndpoints judges the busiest endpoints apart, up to this many (default 100);
	// the rest are judged together as "other".
	//
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=2000
	MaxEndpoints int `json:"maxEndpoints,omitempty"`
}

// ErrorRateGate tunes the error-rate gate.
type ErrorRateGate struct {
	// +optional
	Alpha float64 `json:"alpha,omitempty"`
	// +optional
	MinAbsolute float64 `json:"minAbsolute,omitempty"`
	// +optional
	MinRelative float64 `json:"minRelative,omitempty"`
	// +optional
	MaxRate float64 `json:"maxRate,omitempty"`
}

// LatencyGate tunes the latency gate.
type LatencyGate struct {
	// +optional
	Alpha float64 `json:"alpha,omitempty"`
	// +optional
	MaxP50Ratio float64 `json:"maxP50Ratio,omitempty"`
	// +optional
	MaxP99Ratio float64 `json:"maxP99Ratio,omitempty"`
	// +optional
	MaxRatio float64 `json:"maxRatio,omitempty"`
	// +optional
	MinRequests int64 `json:"minRequests,omitempty"`
}

// Notify is one receiver of abort and completion messages, its URL kept in a Secret.
//
// +kubebuilder:validation:XValidation:rule="has(self.slack) != has(self.webhook)",message="name exactly one of slack or webhook"
type Notify struct {
	// Slack is a Slack-compatible incoming webhook URL.
	//
	// +optional
	Slack *SecretKeyRef `json:"slack,omitempty"`
	// Webhook receives the event as JSON.
	//
	// +optional
	Webhook *SecretKeyRef `json:"webhook,omitempty"`
}

// Phase is where a Migration stands.
//
// +kubebuilder:validation:Enum=Pending;Progressing;Paused;Completed;Aborted
type Phase string

// Phases of a Migration.
const (
	PhasePending     Phase = "Pending"
	PhaseProgressing Phase = "Progressing"
	PhasePaused      Phase = "Paused"
	PhaseCompleted   Phase = "Completed"
	PhaseAborted     Phase = "Aborted"
)

// Condition types of a Migration.
const (
	ConditionReady       = "Ready"
	ConditionProgressing = "Progressing"
	ConditionDegraded    = "Degraded"
)

// MigrationStatus is the migration's recorded state. The controller writes it before
// every action, each write conditional on the resourceVersion it read.
type MigrationStatus struct {
	// ObservedGeneration is the spec generation the status was last reconciled at.
	//
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	Phase Phase `json:"phase,omitempty"`
	// CurrentStep is the current step, counted from 1.
	//
	// +optional
	CurrentStep int32 `json:"currentStep,omitempty"`
	// StepDisplay is the current step of all, e.g. "2/5".
	//
	// +optional
	StepDisplay string `json:"stepDisplay,omitempty"`
	// +optional
	StepStarted *metav1.Time `json:"stepStarted,omitempty"`
	// TargetWeight is the Kubernetes share the current step (or an abort) calls for;
	// AppliedWeight the share the router last confirmed.
	//
	// +optional
	TargetWeight string `json:"targetWeight,omitempty"`
	// +optional
	AppliedWeight string `json:"appliedWeight,omitempty"`
	// Gates are the latest verdicts of the current step.
	//
	// +optional
	// +listType=map
	// +listMapKey=name
	Gates []GateStatus `json:"gates,omitempty"`
	// GateSummary is the gates' verdicts on one line.
	//
	// +optional
	GateSummary string `json:"gateSummary,omitempty"`
	// +optional
	AbortReason string `json:"abortReason,omitempty"`
	// Events are the latest lines of the migration's log, oldest first.
	//
	// +optional
	// +kubebuilder:validation:MaxItems=20
	Events []Event `json:"events,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Engine is the migration engine's state, from which a run resumes; Revision
	// counts its saves, and a save succeeds only on the revision it read.
	//
	// +optional
	Engine *apiextensionsv1.JSON `json:"engine,omitempty"`
	// +optional
	Revision int64 `json:"revision,omitempty"`
	// AcknowledgedRequests are the IDs of the latest manual requests taken from the
	// annotations, so that an annotation seen again is not applied twice.
	//
	// +optional
	// +kubebuilder:validation:MaxItems=64
	AcknowledgedRequests []string `json:"acknowledgedRequests,omitempty"`
}

// GateStatus is one gate's latest verdict.
type GateStatus struct {
	Name string `json:"name"`
	// Verdict is pass, fail or pending.
	Verdict string `json:"verdict"`
	// +optional
	Message string `json:"message,omitempty"`
}

// Event is one line of the migration's log.
type Event struct {
	Time    metav1.MicroTime `json:"time"`
	Message string           `json:"message"`
}
