package lint

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// The Pod Security Standards' controls, as the restricted profile checks them
// (https://kubernetes.io/docs/concepts/security/pod-security-standards/). A
// container's securityContext overrides its pod's; Windows pods are exempt from the
// Linux-only controls, as the admission plugin exempts them.

// windows says the pod runs on Windows nodes (spec.os.name: windows).
func (p *pod) windows() bool { return p.spec.OS != nil && p.spec.OS.Name == corev1.Windows }

func podSecurity(p *pod) *corev1.PodSecurityContext {
	if p.spec.SecurityContext == nil {
		return &corev1.PodSecurityContext{}
	}
	return p.spec.SecurityContext
}

func containerSecurity(c container) *corev1.SecurityContext {
	if c.c.SecurityContext == nil {
		return &corev1.SecurityContext{}
	}
	return c.c.SecurityContext
}

func checkRunAsNonRoot(_ *set, o *object) []problem {
	if o.pod == nil {
		return nil
	}
	psc := podSecurity(o.pod)
	var out []problem
	if ptr.Deref(psc.RunAsUser, -1) == 0 {
		out = append(out, problem{o.pod.path + ".securityContext.runAsUser", "the pod runs as user 0 (root)"})
	}
	for _, c := range o.pod.containers() {
		sc := containerSecurity(c)
		switch {
		case ptr.Deref(sc.RunAsUser, -1) == 0:
			out = append(out, problem{c.field + ".securityContext.runAsUser", fmt.Sprintf("container %s runs as user 0 (root)", c.c.Name)})
		case sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot:
			out = append(out, problem{c.field + ".securityContext.runAsNonRoot", fmt.Sprintf("container %s sets runAsNonRoot to false: it may run as root", c.c.Name)})
		case sc.RunAsNonRoot == nil && !ptr.Deref(psc.RunAsNonRoot, false):
			out = append(out, problem{c.field + ".securityContext.runAsNonRoot", fmt.Sprintf("container %s may run as root: neither it nor the pod sets runAsNonRoot: true", c.c.Name)})
		}
	}
	return out
}

func checkPrivilegeEscalation(_ *set, o *object) []problem {
	if o.pod == nil || o.pod.windows() {
		return nil
	}
	var out []problem
	for _, c := range o.pod.containers() {
		if v := containerSecurity(c).AllowPrivilegeEscalation; v == nil || *v {
			out = append(out, problem{c.field + ".securityContext.allowPrivilegeEscalation", fmt.Sprintf("container %s does not set allowPrivilegeEscalation: false: a setuid binary in it can gain root", c.c.Name)})
		}
	}
	return out
}

// addableCapability is the one capability the restricted profile lets a container add.
const addableCapability = "NET_BIND_SERVICE"

func checkCapabilities(_ *set, o *object) []problem {
	if o.pod == nil || o.pod.windows() {
		return nil
	}
	var out []problem
	for _, c := range o.pod.containers() {
		caps := containerSecurity(c).Capabilities
		if caps == nil {
			caps = &corev1.Capabilities{}
		}
		if !slices.ContainsFunc(caps.Drop, func(cp corev1.Capability) bool { return strings.EqualFold(string(cp), "ALL") }) {
			out = append(out, problem{c.field + ".securityContext.capabilities.drop", fmt.Sprintf("container %s keeps the runtime's default capabilities: drop ALL", c.c.Name)})
		}
		var extra []string
		for _, cp := range caps.Add {
			if name := strings.TrimPrefix(strings.ToUpper(string(cp)), "CAP_"); name != addableCapability {
				extra = append(extra, string(cp))
			}
		}
		if len(extra) > 0 {
			out = append(out, problem{c.field + ".securityContext.capabilities.add", fmt.Sprintf("container %s adds %s: only %s may be added", c.c.Name, strings.Join(extra, ", "), addableCapability)})
		}
	}
	return out
}

// confined says whether a seccomp profile confines: RuntimeDefault or Localhost.
func confined(p *corev1.SeccompProfile) bool {
	return p != nil && (p.Type == corev1.SeccompProfileTypeRuntimeDefault || p.Type == corev1.SeccompProfileTypeLocalhost)
}

func checkSeccomp(_ *set, o *object) []problem {
	if o.pod == nil || o.pod.windows() {
		return nil
	}
	podProfile := podSecurity(o.pod).SeccompProfile
	var out []problem
	if podProfile != nil && !confined(podProfile) {
		out = append(out, problem{o.pod.path + ".securityContext.seccompProfile.type", fmt.Sprintf("the pod's seccomp profile is %s: use RuntimeDefault or Localhost", podProfile.Type)})
		podProfile = nil
	}
	for _, c := range o.pod.containers() {
		p := containerSecurity(c).SeccompProfile
		switch {
		case p != nil && !confined(p):
			out = append(out, problem{c.field + ".securityContext.seccompProfile.type", fmt.Sprintf("container %s's seccomp profile is %s: use RuntimeDefault or Localhost", c.c.Name, p.Type)})
		case p == nil && podProfile == nil:
			out = append(out, problem{c.field + ".securityContext.seccompProfile", fmt.Sprintf("container %s runs without a seccomp profile: every system call is open to it", c.c.Name)})
		}
	}
	return out
}

func checkPrivileged(_ *set, o *object) []problem {
	if o.pod == nil {
		return nil
	}
	var out []problem
	for _, c := range o.pod.containers() {
		if ptr.Deref(containerSecurity(c).Privileged, false) {
			out = append(out, problem{c.field + ".securityContext.privileged", fmt.Sprintf("container %s is privileged: it has every device and capability of the node", c.c.Name)})
		}
	}
	return out
}

func checkHostNamespaces(_ *set, o *object) []problem {
	if o.pod == nil {
		return nil
	}
	var out []problem
	for _, ns := range []struct {
		field string
		on    bool
		what  string
	}{
		{"hostNetwork", o.pod.spec.HostNetwork, "the node's network: its interfaces, and every port on them"},
		{"hostPID", o.pod.spec.HostPID, "the node's process table: it sees and can signal every process on the node"},
		{"hostIPC", o.pod.spec.HostIPC, "the node's IPC namespace: shared memory of every process on the node"},
	} {
		if ns.on {
			out = append(out, problem{o.pod.path + "." + ns.field, fmt.Sprintf("%s is true: the pod shares %s", ns.field, ns.what)})
		}
	}
	return out
}

func checkHostPath(_ *set, o *object) []problem {
	if o.pod == nil {
		return nil
	}
	var out []problem
	for _, v := range o.pod.spec.Volumes {
		if v.HostPath != nil {
			out = append(out, problem{o.pod.path + ".volumes[" + v.Name + "].hostPath", fmt.Sprintf("volume %s mounts %s of the node: the pod reads (or writes) the node's files, and its data stays on one node", v.Name, v.HostPath.Path)})
		}
	}
	return out
}

func checkReadOnlyRoot(_ *set, o *object) []problem {
	if o.pod == nil || o.pod.windows() {
		return nil
	}
	var out []problem
	for _, c := range o.pod.containers() {
		if !ptr.Deref(containerSecurity(c).ReadOnlyRootFilesystem, false) {
			out = append(out, problem{c.field + ".securityContext.readOnlyRootFilesystem", fmt.Sprintf("container %s can write to its image's file system", c.c.Name)})
		}
	}
	return out
}
