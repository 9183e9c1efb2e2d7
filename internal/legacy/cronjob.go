package legacy

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/cronexpr"
)

// Defaults of CronJobConfig.
const (
	DefaultContainer        = "app"
	DefaultStartingDeadline = 5 * time.Minute
	DefaultActiveDeadline   = time.Hour
	// HistoryLimit is how many finished Jobs of each outcome a CronJob keeps.
	HistoryLimit = 3
)

// Annotations put on imported CronJobs.
const (
	AnnotationImportedFrom   = "ferry.dev/imported-from"
	AnnotationLegacySchedule = "ferry.dev/legacy-schedule"
	AnnotationLegacyUser     = "ferry.dev/legacy-user"
)

// Errors of CronJobConfig.
var (
	ErrNoImage    = errors.New("no image for the jobs: pass --image REPOSITORY:TAG (ferry deploy sets the release image on containers named in ferry.yaml)")
	ErrNoTimeZone = errors.New("no time zone: pass --time-zone with the zone the legacy server's cron ran in, such as Asia/Tokyo (timedatectl shows it)")
)

// CronJobConfig says how crontab entries become CronJobs.
type CronJobConfig struct {
	// Image runs every job; ferry deploy replaces it when Container is one of
	// ferry.yaml's image.containers.
	Image string
	// Container names each job's container; default DefaultContainer.
	Container string
	// TimeZone is the IANA zone the legacy cron ran in; a CRON_TZ line above a job wins.
	TimeZone string
	// Namespace, when set, goes on every CronJob.
	Namespace string
	// NamePrefix starts every CronJob's name.
	NamePrefix string
	// StartingDeadline bounds how late a missed run may still start, so unsuspending
	// does not fire the runs missed meanwhile; default DefaultStartingDeadline, and
	// never more than half the shortest time between two runs.
	StartingDeadline time.Duration
	// ActiveDeadline bounds one run; default DefaultActiveDeadline, and never longer
	// than the shortest time between two runs.
	ActiveDeadline time.Duration
	// Secret names the Secret that holds the crontab's own variables that look secret
	// (PGPASSWORD=… above a job): jobs read those from it by key instead of carrying
	// their values; CronSecret makes it. Default DefaultCronSecret, after NamePrefix.
	Secret string
	// ConfigMaps and Secrets give every job their keys as variables (envFrom), such as
	// those `ferry import env` makes.
	ConfigMaps []string
	Secrets    []string
	// CPU and Memory, when set, are each container's requests; Memory is its limit too.
	CPU    string
	Memory string
}

func (c *CronJobConfig) complete() error {
	if c.Image == "" {
		return ErrNoImage
	}
	if c.Container == "" {
		c.Container = DefaultContainer
	}
	if c.StartingDeadline == 0 {
		c.StartingDeadline = DefaultStartingDeadline
	}
	if c.ActiveDeadline == 0 {
		c.ActiveDeadline = DefaultActiveDeadline
	}
	if c.StartingDeadline < 10*time.Second || c.ActiveDeadline < time.Second {
		return fmt.Errorf("the starting deadline must be at least 10s and the active deadline at least 1s")
	}
	if c.TimeZone != "" {
		if err := checkZone(c.TimeZone); err != nil {
			return err
		}
	}
	for _, q := range []string{c.CPU, c.Memory} {
		if _, err := resource.ParseQuantity(q); q != "" && err != nil {
			return fmt.Errorf("resource quantity %q: %w", q, err)
		}
	}
	return nil
}

func checkZone(zone string) error {
	if _, err := time.LoadLocation(zone); err != nil || zone == "Local" {
		return fmt.Errorf("unknown time zone %q: use an IANA name such as Asia/Tokyo or Etc/UTC", zone)
	}
	return nil
}

// CronJobs maps every job of tab to a suspended CronJob with safe defaults
// (startingDeadlineSeconds, concurrencyPolicy Forbid, timeZone, history limits, no
// retries, a deadline per run). Errors in the crontab are PositionErrors; others are
// in cfg. Jobs that cannot map are left out with a Skipped note;
// what may behave differently gets a Review note.
func CronJobs(tab *Crontab, cfg CronJobConfig) ([]*unstructured.Unstructured, []Note, error) {
	if err := cfg.complete(); err != nil {
		return nil, nil, err
	}
	var objs []*unstructured.Unstructured
	secrets := cronSecrets(tab)
	notes := append(envNotes(tab), secretNotes(tab, secrets, cfg.secretName())...)
	secretKeys := map[int]string{}
	for _, s := range secrets {
		secretKeys[s.line] = s.key
	}
	if tab.UserColumnReason != "" {
		notes = append(notes, Note{File: tab.File, Line: tab.UserColumnLine, Kind: Review, Message: "read as a system crontab, the word after each schedule being the user it ran as: " +
			tab.UserColumnReason + " (pass --no-system if it is part of the command)"})
	}
	var alike []entryNote
	names := map[string]bool{}
	for _, job := range tab.Jobs {
		note := func(kind NoteKind, format string, args ...any) {
			notes = append(notes, Note{File: tab.File, Line: job.Line, Kind: kind, Message: fmt.Sprintf(format, args...)})
		}
		zone := cronZone(job.Env, cfg.TimeZone)
		schedule, why, review := mappable(job, zone)
		if why != "" {
			note(Skipped, "%s", why)
			continue
		}
		if zone == "" {
			return nil, nil, fmt.Errorf("%s:%d: %w", tab.File, job.Line, ErrNoTimeZone)
		}
		if err := checkZone(zone); err != nil {
			return nil, nil, positionError(tab.File, job.Line, "CRON_TZ: %w", err)
		}
		if review != "" {
			alike = append(alike, entryNote{line: job.Line, one: review, group: review})
		}
		alike = append(alike, entryNotes(job)...)
		cj, err := cronJob(tab.File, job, schedule, zone, uniqueName(names, cfg.NamePrefix, jobName(job)), secretKeys, cfg)
		if err != nil {
			return nil, nil, positionError(tab.File, job.Line, "%w", err)
		}
		objs = append(objs, cj)
	}
	notes = append(notes, groupNotes(tab.File, alike)...)
	sortNotes(notes)
	return objs, notes, nil
}

// mappable returns the Kubernetes schedule of job, or why the job cannot be a
// CronJob and what to write instead; and a note when the schedule was read leniently.
func mappable(job Job, zone string) (schedule, skip, review string) {
	schedule, err := cronexpr.FromClassic(job.Schedule)
	var ext *cronexpr.ExtensionError
	if errors.As(err, &ext) && ext.Kind == cronexpr.NoSpecificValue {
		// ? is any day wherever it is read (Quartz, supercronic), as * is in both.
		if schedule, err = cronexpr.FromClassic(anyDay(job.Schedule)); err == nil {
			review = "? in a day field is not classic cron syntax (cron refuses the line): read as *, any day; check that the entry did run on the legacy server"
		}
	}
	switch {
	case errors.Is(err, cronexpr.ErrReboot):
		return "", "@reboot has no CronJob equivalent: run it when the app starts (an init container or the entrypoint)", ""
	case err != nil:
		if advice := scheduleAdvice(job.Schedule, err, zone); advice != "" {
			return "", advice, ""
		}
		return "", err.Error(), ""
	case job.HasStdin:
		return "", "the command feeds standard input with an unescaped %: write it as a here-document or pipe, or escape % as \\%", ""
	case runParts.MatchString(job.Command):
		return "", "run-parts runs the legacy host's own maintenance scripts, not the app: leave it with the host", ""
	}
	return schedule, "", review
}

// anyDay writes ? in the day fields of a five-field schedule as *.
func anyDay(schedule string) string {
	f := strings.Fields(schedule)
	if len(f) != 5 {
		return schedule
	}
	for _, i := range []int{2, 4} {
		if f[i] == "?" {
			f[i] = "*"
		}
	}
	return strings.Join(f, " ")
}

func cronJob(file string, job Job, schedule, zone, name string, secretKeys map[int]string, cfg CronJobConfig) (*unstructured.Unstructured, error) {
	annotations := map[string]string{AnnotationImportedFrom: fmt.Sprintf("%s:%d", filepath.Base(file), job.Line)}
	if schedule != job.Schedule {
		annotations[AnnotationLegacySchedule] = job.Schedule
	}
	if job.User != "" {
		annotations[AnnotationLegacyUser] = job.User
	}
	// A run may take at most the time to the next one; a missed run may start late by
	// at most half of it, so that unsuspending never starts a run that was missed.
	deadline, late := cfg.ActiveDeadline, cfg.StartingDeadline
	if every, err := cronexpr.MinInterval(schedule); err == nil {
		deadline, late = min(deadline, every), min(late, every/2)
	}
	labels := map[string]string{"app.kubernetes.io/component": "cron"}
	container := jobContainer(job, secretKeys, cfg)
	cj := &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: cfg.Namespace, Labels: labels, Annotations: annotations},
		Spec: batchv1.CronJobSpec{
			Schedule:                   schedule,
			TimeZone:                   ptr.To(zone),
			Suspend:                    ptr.To(true),
			StartingDeadlineSeconds:    ptr.To(int64(late.Seconds())),
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			SuccessfulJobsHistoryLimit: ptr.To(int32(HistoryLimit)),
			FailedJobsHistoryLimit:     ptr.To(int32(HistoryLimit)),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: batchv1.JobSpec{
					// cron never retried a failed run; a retried batch may do its work twice.
					BackoffLimit:          ptr.To(int32(0)),
					ActiveDeadlineSeconds: ptr.To(int64(deadline.Seconds())),
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: labels},
						Spec: corev1.PodSpec{
							RestartPolicy:   corev1.RestartPolicyNever,
							SecurityContext: jobPodSecurity(),
							Containers:      []corev1.Container{container},
							Volumes:         []corev1.Volume{scratch()},
						},
					},
				},
			},
		},
	}
	return toObject(cj)
}
