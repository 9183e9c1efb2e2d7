package lint

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"

	"ferry.dev/ferry/internal/cronexpr"
)

func one(field, format string, args ...any) []problem {
	return []problem{{field: field, message: fmt.Sprintf(format, args...)}}
}

func checkSuspendDeadline(_ *set, o *object) []problem {
	cj := o.cronJob
	if cj == nil || cj.Spec.Suspend == nil {
		return nil
	}
	deadline := cj.Spec.StartingDeadlineSeconds
	if deadline == nil {
		return one("spec.startingDeadlineSeconds", "suspend is set (%v) but startingDeadlineSeconds is not: unsuspending starts the missed run at once; set it, such as 300", *cj.Spec.Suspend)
	}
	every, err := cronexpr.MinInterval(cj.Spec.Schedule)
	if err == nil && time.Duration(*deadline)*time.Second >= every {
		return one("spec.startingDeadlineSeconds", "startingDeadlineSeconds %d is not shorter than the %s between runs: unsuspending still starts the last missed run at once", *deadline, human(every))
	}
	return nil
}

func checkConcurrency(_ *set, o *object) []problem {
	if o.cronJob == nil {
		return nil
	}
	if p := o.cronJob.Spec.ConcurrencyPolicy; p == "" || p == batchv1.AllowConcurrent {
		return one("spec.concurrencyPolicy", "concurrencyPolicy is Allow%s: runs may overlap; use Forbid", map[bool]string{true: " (the default)", false: ""}[p == ""])
	}
	return nil
}

func checkTimeZone(_ *set, o *object) []problem {
	if o.cronJob != nil && (o.cronJob.Spec.TimeZone == nil || *o.cronJob.Spec.TimeZone == "") {
		return one("spec.timeZone", "no timeZone: %q is read in the controller's zone (usually UTC), not the legacy server's", o.cronJob.Spec.Schedule)
	}
	return nil
}

func checkDeadlineVsSchedule(_ *set, o *object) []problem {
	if o.cronJob == nil || o.cronJob.Spec.JobTemplate.Spec.ActiveDeadlineSeconds == nil {
		return nil
	}
	every, err := cronexpr.MinInterval(o.cronJob.Spec.Schedule)
	if err != nil {
		return nil // FERRY-CRON-007 reports it
	}
	deadline := time.Duration(*o.cronJob.Spec.JobTemplate.Spec.ActiveDeadlineSeconds) * time.Second
	if deadline > every {
		return one("spec.jobTemplate.spec.activeDeadlineSeconds", "a run may take %s (activeDeadlineSeconds %d) but %q fires every %s", human(deadline), int64(deadline.Seconds()), o.cronJob.Spec.Schedule, human(every))
	}
	return nil
}

func checkHistoryLimits(_ *set, o *object) []problem {
	if o.cronJob == nil {
		return nil
	}
	var missing []string
	if o.cronJob.Spec.SuccessfulJobsHistoryLimit == nil {
		missing = append(missing, "successfulJobsHistoryLimit")
	}
	if o.cronJob.Spec.FailedJobsHistoryLimit == nil {
		missing = append(missing, "failedJobsHistoryLimit")
	}
	if len(missing) > 0 {
		return one("spec."+missing[0], "%s not set: the defaults keep 3 successful Jobs and 1 failed", joinAnd(missing))
	}
	return nil
}

func checkActiveDeadline(_ *set, o *object) []problem {
	if o.cronJob != nil && o.cronJob.Spec.JobTemplate.Spec.ActiveDeadlineSeconds == nil {
		return one("spec.jobTemplate.spec.activeDeadlineSeconds", "runs have no activeDeadlineSeconds: a hung run never ends")
	}
	return nil
}

func checkSchedule(_ *set, o *object) []problem {
	if o.cronJob == nil {
		return nil
	}
	if _, err := cronexpr.Parse(o.cronJob.Spec.Schedule); err != nil {
		return one("spec.schedule", "%v", err)
	}
	return nil
}

// human writes a duration the short way people say it: 1h, 10m, 1d, 7d.
func human(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	out := words[0]
	for _, w := range words[1 : len(words)-1] {
		out += ", " + w
	}
	return out + " and " + words[len(words)-1]
}
