// Package deploy_test checks the deployment files (deploy/kubernetes, deploy/systemd, the
// Dockerfiles and scripts/build-image.sh) against each other and against the command tree they
// run: the invariants a reviewer would otherwise have to hold in their head.
package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/cli"
	"github.com/spacecast/spacecast/pkg/fleet"
)

// drainMargin is what the grace period (Kubernetes) or TimeoutStopSec (systemd) must leave above
// the worker's --drain-timeout: the hand-back of the rooms still running and their last uploads.
const drainMargin = time.Minute

// imageUID is the user the image runs as (Dockerfile, Dockerfile.goreleaser, build-image.sh).
const imageUID = 10001

// secretName matches the names of environment variables and ConfigMap keys that hold secrets.
var secretName = regexp.MustCompile(`(?i)(SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE|CREDENTIAL|ACCESS_KEY|SIGN_KEY|(^|_)PIN$)`)

// secretValueFlags are the flags that take a secret's value itself; deployments must use the
// -from variants (env:NAME or file:/PATH) instead.
var secretValueFlags = []string{"api-secret", "token", "pin", "janus-api-secret", "sign-key"}

// Kubernetes objects, only the fields the checks read.

type meta struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type object struct {
	file       string
	APIVersion string    `yaml:"apiVersion"`
	Kind       string    `yaml:"kind"`
	Metadata   meta      `yaml:"metadata"`
	Data       yaml.Node `yaml:"data"`
	StringData yaml.Node `yaml:"stringData"`
	Spec       yaml.Node `yaml:"spec"`
}

type selector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type deploymentSpec struct {
	Replicas *int     `yaml:"replicas"`
	Selector selector `yaml:"selector"`
	Template struct {
		Metadata meta    `yaml:"metadata"`
		Spec     podSpec `yaml:"spec"`
	} `yaml:"template"`
}

type podSpec struct {
	TerminationGracePeriodSeconds *int64 `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               struct {
		RunAsNonRoot *bool  `yaml:"runAsNonRoot"`
		RunAsUser    *int64 `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name     string     `yaml:"name"`
		EmptyDir *yaml.Node `yaml:"emptyDir"`
		Secret   *struct {
			SecretName string `yaml:"secretName"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef    *yaml.Node `yaml:"secretKeyRef"`
			ConfigMapKeyRef *yaml.Node `yaml:"configMapKeyRef"`
			FieldRef        *yaml.Node `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	ReadinessProbe  *probe `yaml:"readinessProbe"`
	LivenessProbe   *probe `yaml:"livenessProbe"`
	SecurityContext struct {
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet *struct {
		Path string    `yaml:"path"`
		Port yaml.Node `yaml:"port"`
	} `yaml:"httpGet"`
}

type serviceSpec struct {
	Selector map[string]string `yaml:"selector"`
	Ports    []struct {
		Name       string    `yaml:"name"`
		Port       int       `yaml:"port"`
		TargetPort yaml.Node `yaml:"targetPort"`
	} `yaml:"ports"`
}

type scaledObjectSpec struct {
	ScaleTargetRef struct {
		Name string `yaml:"name"`
	} `yaml:"scaleTargetRef"`
	MinReplicaCount *int `yaml:"minReplicaCount"`
	Triggers        []struct {
		Type     string            `yaml:"type"`
		Metadata map[string]string `yaml:"metadata"`
	} `yaml:"triggers"`
}

// loadObjects parses every YAML document under dir (multi-document files included).
func loadObjects(t *testing.T, dir string) []object {
	t.Helper()
	var objs []object
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for i := 0; ; i++ {
			var o object
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: document %d: %w", path, i+1, err)
			}
			if o.APIVersion == "" || o.Kind == "" {
				return fmt.Errorf("%s: document %d has no apiVersion or kind", path, i+1)
			}
			o.file = path
			objs = append(objs, o)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func decodeSpec[T any](t *testing.T, o object) T {
	t.Helper()
	var s T
	if err := o.Spec.Decode(&s); err != nil {
		t.Fatalf("%s: %s %s: spec: %v", o.file, o.Kind, o.Metadata.Name, err)
	}
	return s
}

func ofKind(objs []object, kind string) []object {
	var out []object
	for _, o := range objs {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// selects reports whether a selector's labels are all among labels (and there is one at least).
func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// invocation is one spacecast command line in a deployment file: a container's args or a unit's
// ExecStart, split into the command path and its flags.
type invocation struct {
	where string
	args  []string
	// command is the subcommand path ("worker", "jobs cancel"); flags maps each --flag to its
	// values (repeatable flags keep every value).
	command string
	flags   map[string][]string
}

// value returns a flag's last value, and whether it was given.
func (inv invocation) value(name string) (string, bool) {
	v := inv.flags[name]
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// parseInvocation resolves args against the real command tree (pkg/cli's root command) and
// returns an error for an unknown command or flag, or a flag without a value.
func parseInvocation(where string, args []string) (invocation, error) {
	inv := invocation{where: where, args: args, flags: map[string][]string{}}
	root := cli.NewRootCommand(cli.BuildInfo{}, io.Discard, io.Discard)
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		return inv, fmt.Errorf("%s: spacecast %s: no such command in pkg/cli's command tree (%v)", where, strings.Join(args, " "), err)
	}
	inv.command = strings.TrimPrefix(cmd.CommandPath(), root.Name()+" ")
	lookup := func(name string) *pflag.Flag {
		if f := cmd.Flags().Lookup(name); f != nil {
			return f
		}
		return cmd.InheritedFlags().Lookup(name)
	}
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if !strings.HasPrefix(a, "--") {
			if strings.HasPrefix(a, "-") {
				return inv, fmt.Errorf("%s: spacecast %s: write %q as a long flag", where, inv.command, a)
			}
			continue // a positional argument
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		f := lookup(name)
		if f == nil {
			return inv, fmt.Errorf("%s: spacecast %s has no flag --%s (its flags: %s)", where, inv.command, name, commandFlags(cmd))
		}
		if !hasVal {
			if f.NoOptDefVal != "" {
				val = f.NoOptDefVal
			} else if i+1 < len(rest) {
				i++
				val = rest[i]
			} else {
				return inv, fmt.Errorf("%s: spacecast %s: --%s has no value", where, inv.command, name)
			}
		}
		inv.flags[name] = append(inv.flags[name], val)
	}
	return inv, nil
}

// commandFlags lists the command's own flags, for messages.
func commandFlags(cmd *cobra.Command) string {
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, "--"+f.Name) })
	return strings.Join(names, " ")
}

// checkSecretsByReference: no flag carries a secret's value, and every -from flag is a reference.
func checkSecretsByReference(t *testing.T, inv invocation) {
	t.Helper()
	for _, name := range secretValueFlags {
		if _, ok := inv.flags[name]; ok {
			t.Errorf("%s: --%s puts a secret's value on the command line; use --%s-from env:NAME or file:/PATH", inv.where, name, name)
		}
	}
	for name, vals := range inv.flags {
		if !strings.HasSuffix(name, "-from") {
			continue
		}
		for _, v := range vals {
			if !strings.HasPrefix(v, "env:") && !strings.HasPrefix(v, "file:/") {
				t.Errorf("%s: --%s %q is not a reference (env:NAME or file:/PATH)", inv.where, name, v)
			}
		}
	}
}

// envReferences returns the NAMEs of env:NAME references among the -from flags.
func envReferences(inv invocation) []string {
	var names []string
	for name, vals := range inv.flags {
		if !strings.HasSuffix(name, "-from") {
			continue
		}
		for _, v := range vals {
			if n, ok := strings.CutPrefix(v, "env:"); ok {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return names
}

// checkDrain: the worker's stop timeout leaves drainMargin above its --drain-timeout.
func checkDrain(t *testing.T, inv invocation, stop time.Duration, stopName string) {
	t.Helper()
	v, ok := inv.value("drain-timeout")
	if !ok {
		t.Errorf("%s: the worker has no --drain-timeout: its default (1h) would outlast %s %v", inv.where, stopName, stop)
		return
	}
	drain, err := time.ParseDuration(v)
	if err != nil {
		t.Errorf("%s: --drain-timeout %q: %v", inv.where, v, err)
		return
	}
	if stop < drain+drainMargin {
		t.Errorf("%s: %s is %v, --drain-timeout %v: the worker would be killed mid-drain (want at least %v more)",
			inv.where, stopName, stop, drain, drainMargin)
	}
}

// listenPort returns --listen's port and whether its host is reachable from outside the process's
// network namespace (not loopback).
func listenPort(t *testing.T, inv invocation) (port int, outside bool) {
	t.Helper()
	v, ok := inv.value("listen")
	if !ok {
		return 0, false
	}
	host, p, err := net.SplitHostPort(v)
	if err != nil {
		t.Fatalf("%s: --listen %q: %v", inv.where, v, err)
	}
	port, err = strconv.Atoi(p)
	if err != nil {
		t.Fatalf("%s: --listen %q: port: %v", inv.where, v, err)
	}
	ip := net.ParseIP(host)
	return port, host != "localhost" && (ip == nil || !ip.IsLoopback())
}

// portNumber resolves a probe's or a Service's port (a number or a container port's name).
func portNumber(n yaml.Node, c container) (int, bool) {
	if p, err := strconv.Atoi(n.Value); err == nil {
		return p, true
	}
	for _, cp := range c.Ports {
		if cp.Name == n.Value {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

// expandArgs replaces Kubernetes' $(VAR) references by a placeholder, after checking each VAR is
// defined in the container's environment.
func expandArgs(t *testing.T, where string, args []string, defined map[string]bool) []string {
	t.Helper()
	ref := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	out := make([]string, len(args))
	for i, a := range args {
		for _, m := range ref.FindAllStringSubmatch(a, -1) {
			if !defined[m[1]] {
				t.Errorf("%s: argument %q uses $(%s), which the container's environment does not define", where, a, m[1])
			}
		}
		out[i] = ref.ReplaceAllString(a, "VALUE")
	}
	return out
}

func TestKubernetes(t *testing.T) {
	objs := loadObjects(t, ".") // every YAML under deploy/
	configMaps := map[string]map[string]string{}
	for _, o := range ofKind(objs, "ConfigMap") {
		var data map[string]string
		if err := o.Data.Decode(&data); err != nil {
			t.Fatalf("%s: ConfigMap %s: data: %v", o.file, o.Metadata.Name, err)
		}
		configMaps[o.Metadata.Name] = data
		for k := range data {
			if secretName.MatchString(k) {
				t.Errorf("%s: ConfigMap %s holds %s, a secret: take it from a Secret", o.file, o.Metadata.Name, k)
			}
		}
	}
	for _, o := range ofKind(objs, "Secret") {
		t.Errorf("%s: Secret %s is in the repository: secrets are made outside it (kubectl create secret)", o.file, o.Metadata.Name)
	}

	type deployed struct {
		object
		spec deploymentSpec
		// spacecast is the spacecast container's command line; c the container.
		spacecast invocation
		c         container
	}
	var deployments []deployed
	envRefs := map[string][]string{} // command → env:NAME references it passes on
	envHas := map[string]map[string]bool{}
	for _, o := range ofKind(objs, "Deployment") {
		d := deployed{object: o, spec: decodeSpec[deploymentSpec](t, o)}
		where := fmt.Sprintf("%s: Deployment %s", o.file, o.Metadata.Name)
		if !selects(d.spec.Selector.MatchLabels, d.spec.Template.Metadata.Labels) {
			t.Errorf("%s: its selector %v does not select its pods' labels %v", where, d.spec.Selector.MatchLabels, d.spec.Template.Metadata.Labels)
		}
		pod := d.spec.Template.Spec
		if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
			t.Errorf("%s: runAsNonRoot is not true", where)
		}
		if u := pod.SecurityContext.RunAsUser; u == nil || *u != imageUID {
			t.Errorf("%s: runAsUser is not the image's user %d", where, imageUID)
		}
		if len(pod.Containers) != 1 {
			t.Fatalf("%s: %d containers, want the one spacecast container", where, len(pod.Containers))
		}
		c := pod.Containers[0]
		d.c = c
		where += ": container " + c.Name
		if c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
			t.Errorf("%s: readOnlyRootFilesystem is not true", where)
		}
		if c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
			t.Errorf("%s: allowPrivilegeEscalation is not false", where)
		}
		if len(c.Command) != 0 {
			t.Errorf("%s: command %v replaces the image's entrypoint (spacecast); give args only", where, c.Command)
		}
		// The environment: every secret from a Secret; what $(VAR) may use.
		defined := map[string]bool{}
		for _, e := range c.Env {
			defined[e.Name] = true
			if secretName.MatchString(e.Name) && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
				t.Errorf("%s: env %s is a secret written inline: take it from a Secret (valueFrom.secretKeyRef)", where, e.Name)
			}
		}
		for _, ef := range c.EnvFrom {
			if ef.ConfigMapRef != nil {
				data, ok := configMaps[ef.ConfigMapRef.Name]
				if !ok {
					t.Errorf("%s: envFrom ConfigMap %s is not in deploy/kubernetes", where, ef.ConfigMapRef.Name)
				}
				for k := range data {
					defined[k] = true
				}
			}
		}
		mounted := map[string]bool{}
		for _, v := range pod.Volumes {
			mounted[v.Name] = true
		}
		for _, m := range c.VolumeMounts {
			if !mounted[m.Name] {
				t.Errorf("%s: volumeMount %s has no volume", where, m.Name)
			}
		}

		inv, err := parseInvocation(where, expandArgs(t, where, c.Args, defined))
		t.Run("flags/"+o.Metadata.Name, func(t *testing.T) {
			if err != nil {
				t.Fatal(err)
			}
		})
		if inv.command == "" && len(c.Args) > 0 {
			// The command is unknown (reported above); what follows needs only the flags.
			inv.command = c.Args[0]
			inv.flags = roughFlags(c.Args[1:])
		}
		d.spacecast = inv
		deployments = append(deployments, d)
		checkSecretsByReference(t, inv)
		envRefs[inv.command] = append(envRefs[inv.command], envReferences(inv)...)
		envHas[inv.command] = defined

		// The HTTP port: reachable, probed on /healthz, scraped on /metrics.
		port, outside := listenPort(t, inv)
		if port == 0 {
			t.Errorf("%s: no --listen: the default 127.0.0.1 is out of the kubelet's and Prometheus's reach", where)
		} else if !outside {
			t.Errorf("%s: --listen %s is loopback: the kubelet's probes and Prometheus cannot reach it", where, inv.flags["listen"])
		}
		for name, p := range map[string]*probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
			if p == nil || p.HTTPGet == nil {
				t.Errorf("%s: no %s httpGet", where, name)
				continue
			}
			if p.HTTPGet.Path != "/healthz" {
				t.Errorf("%s: %s path %q, want /healthz", where, name, p.HTTPGet.Path)
			}
			if got, ok := portNumber(p.HTTPGet.Port, c); !ok || got != port {
				t.Errorf("%s: %s port %q is %d, --listen gives %d", where, name, p.HTTPGet.Port.Value, got, port)
			}
		}
		ann := d.spec.Template.Metadata.Annotations
		if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != strconv.Itoa(port) || ann["prometheus.io/path"] != "/metrics" {
			t.Errorf("%s: prometheus.io annotations %v: want scrape \"true\", port %q (--listen), path /metrics", where, ann, strconv.Itoa(port))
		}

		if inv.command == "worker" {
			grace := pod.TerminationGracePeriodSeconds
			if grace == nil {
				t.Errorf("%s: no terminationGracePeriodSeconds: the default 30 s cuts every drain short", where)
			} else {
				checkDrain(t, inv, time.Duration(*grace)*time.Second, "terminationGracePeriodSeconds")
			}
			spool, ok := inv.value("spool")
			if !ok {
				t.Errorf("%s: no --spool: the root filesystem is read-only", where)
			}
			onVolume := false
			for _, m := range c.VolumeMounts {
				for _, v := range pod.Volumes {
					if v.Name == m.Name && v.EmptyDir != nil && (spool == m.MountPath || strings.HasPrefix(spool, m.MountPath+"/")) {
						onVolume = true
					}
				}
			}
			if !onVolume {
				t.Errorf("%s: --spool %s is not on an emptyDir volume", where, spool)
			}
			if d.spec.Replicas != nil {
				t.Errorf("%s: replicas is set, and the ScaledObject owns it (each apply would reset the count)", where)
			}
		}
	}

	// The worker resolves the references the webhook puts in its jobs: it needs each variable.
	for _, name := range envRefs["webhook"] {
		if !envHas["worker"][name] {
			t.Errorf("the webhook's jobs name env:%s, and the worker's environment has no %s", name, name)
		}
	}

	byCommand := func(command string) *deployed {
		for i := range deployments {
			if deployments[i].spacecast.command == command {
				return &deployments[i]
			}
		}
		return nil
	}
	worker, webhook := byCommand("worker"), byCommand("webhook")
	if worker == nil || webhook == nil {
		t.Fatalf("deploy/kubernetes: want a worker and a webhook Deployment")
	}

	// Disruption budgets select exactly one Deployment's pods; the worker has one.
	covered := map[string]bool{}
	for _, o := range ofKind(objs, "PodDisruptionBudget") {
		s := decodeSpec[struct {
			Selector selector `yaml:"selector"`
		}](t, o)
		var hits []string
		for _, d := range deployments {
			if selects(s.Selector.MatchLabels, d.spec.Template.Metadata.Labels) {
				hits = append(hits, d.Metadata.Name)
			}
		}
		if len(hits) != 1 {
			t.Errorf("%s: PodDisruptionBudget %s selects %v, want exactly one Deployment", o.file, o.Metadata.Name, hits)
			continue
		}
		covered[hits[0]] = true
	}
	if !covered[worker.Metadata.Name] {
		t.Errorf("no PodDisruptionBudget selects the worker Deployment %s", worker.Metadata.Name)
	}

	// Services select exactly one Deployment's pods, on a port its container has.
	for _, o := range ofKind(objs, "Service") {
		s := decodeSpec[serviceSpec](t, o)
		var hits []*deployed
		for i := range deployments {
			if selects(s.Selector, deployments[i].spec.Template.Metadata.Labels) {
				hits = append(hits, &deployments[i])
			}
		}
		if len(hits) != 1 {
			t.Errorf("%s: Service %s selects %d Deployments, want exactly one", o.file, o.Metadata.Name, len(hits))
			continue
		}
		port, _ := listenPort(t, hits[0].spacecast)
		for _, p := range s.Ports {
			if got, ok := portNumber(p.TargetPort, hits[0].c); !ok || got != port {
				t.Errorf("%s: Service %s port %s targets %q = %d, the pods listen on %d", o.file, o.Metadata.Name, p.Name, p.TargetPort.Value, got, port)
			}
		}
	}
	if len(ofKind(objs, "Service")) == 0 {
		t.Errorf("deploy/kubernetes: no Service for the webhook")
	}

	// KEDA scales the worker on the queue pkg/fleet creates, below one worker's capacity.
	scaled := ofKind(objs, "ScaledObject")
	if len(scaled) != 1 {
		t.Fatalf("deploy/kubernetes: %d ScaledObjects, want 1", len(scaled))
	}
	so := decodeSpec[scaledObjectSpec](t, scaled[0])
	where := scaled[0].file + ": ScaledObject " + scaled[0].Metadata.Name
	if so.ScaleTargetRef.Name != worker.Metadata.Name {
		t.Errorf("%s: scales %q, not the worker Deployment %q", where, so.ScaleTargetRef.Name, worker.Metadata.Name)
	}
	if so.MinReplicaCount == nil || *so.MinReplicaCount < 2 {
		t.Errorf("%s: minReplicaCount below 2: a lone worker's rooms have nowhere to fail over to", where)
	}
	if len(so.Triggers) != 1 || so.Triggers[0].Type != "nats-jetstream" {
		t.Fatalf("%s: want one nats-jetstream trigger", where)
	}
	m := so.Triggers[0].Metadata
	if m["stream"] != fleet.Stream || m["consumer"] != fleet.Consumer {
		t.Errorf("%s: stream %q consumer %q; pkg/fleet's are %q and %q", where, m["stream"], m["consumer"], fleet.Stream, fleet.Consumer)
	}
	for _, key := range []string{"natsServerMonitoringEndpoint", "account", "lagThreshold"} {
		if m[key] == "" {
			t.Errorf("%s: trigger has no %s", where, key)
		}
	}
	lag, err := strconv.Atoi(m["lagThreshold"])
	maxRooms, ok := worker.spacecast.value("max-rooms")
	rooms, err2 := strconv.Atoi(maxRooms)
	switch {
	case err != nil || !ok || err2 != nil:
		t.Errorf("%s: lagThreshold %q and the worker's --max-rooms %q must both be numbers", where, m["lagThreshold"], maxRooms)
	case lag <= 0 || lag > rooms:
		// The metric counts jobs waiting and running: above --max-rooms, the workers would be full
		// before another is added, and new rooms would wait.
		t.Errorf("%s: lagThreshold %d must be between 1 and the worker's --max-rooms %d", where, lag, rooms)
	}

	// kustomization.yaml lists every file in the folder, and only those.
	kb, err := os.ReadFile("kubernetes/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(kb, &k); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("kubernetes/*.yaml")
	var want []string
	for _, f := range files {
		if filepath.Base(f) != "kustomization.yaml" {
			want = append(want, filepath.Base(f))
		}
	}
	got := slices.Clone(k.Resources)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("kubernetes/kustomization.yaml: resources %v, the folder has %v", got, want)
	}
}

// roughFlags reads --flag=value and --flag value pairs without the command tree, for the checks
// that still make sense when the command is unknown.
func roughFlags(args []string) map[string][]string {
	flags := map[string][]string{}
	for i := 0; i < len(args); i++ {
		name, val, ok := strings.Cut(strings.TrimPrefix(args[i], "--"), "=")
		if !strings.HasPrefix(args[i], "--") {
			continue
		}
		if !ok && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			i++
			val = args[i]
		}
		flags[name] = append(flags[name], val)
	}
	return flags
}

// unit is a systemd unit file: each "Section.Key" and its values in order.
type unit map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		case strings.HasSuffix(line, `\`):
			t.Fatalf("%s:%d: continued lines are not read by this test; keep each setting on one line", path, n)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: %q is not KEY=VALUE in a section", path, n, line)
			}
			u[section+"."+strings.TrimSpace(k)] = append(u[section+"."+strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u unit) last(key string) string {
	v := u[key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// systemdSpan parses a systemd time span ("1h", "55min", "3600", "1h 5min 30s").
func systemdSpan(s string) (time.Duration, error) {
	units := map[string]time.Duration{
		"": time.Second, "s": time.Second, "sec": time.Second, "second": time.Second, "seconds": time.Second,
		"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
		"h": time.Hour, "hr": time.Hour, "hour": time.Hour, "hours": time.Hour,
		"ms": time.Millisecond, "msec": time.Millisecond, "d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	}
	re := regexp.MustCompile(`^\s*(\d+)\s*([a-z]*)`)
	var total time.Duration
	rest := s
	for strings.TrimSpace(rest) != "" {
		m := re.FindStringSubmatch(rest)
		if m == nil {
			return 0, fmt.Errorf("time span %q: cannot read %q", s, rest)
		}
		n, _ := strconv.Atoi(m[1])
		u, ok := units[m[2]]
		if !ok {
			return 0, fmt.Errorf("time span %q: unit %q", s, m[2])
		}
		total += time.Duration(n) * u
		rest = rest[len(m[0]):]
	}
	if s == "infinity" || strings.TrimSpace(s) == "" {
		return 0, fmt.Errorf("time span %q: want a finite span", s)
	}
	return total, nil
}

// envFile reads a KEY=VALUE file, skipping comments.
func envFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=VALUE", path, line)
		}
		env[k] = v
	}
	return env
}

func TestSystemd(t *testing.T) {
	example := envFile(t, "systemd/spacecast.env.example")
	for k, v := range example {
		if secretName.MatchString(k) && v != "" {
			t.Errorf("systemd/spacecast.env.example: %s has a value; secrets go in secrets.env, which is not in the repository", k)
		}
	}
	units, _ := filepath.Glob("systemd/*.service")
	if len(units) < 2 {
		t.Fatalf("deploy/systemd: %d units, want the worker's and the webhook's", len(units))
	}
	seen := map[string]bool{}
	for _, path := range units {
		u := parseUnit(t, path)
		where := path
		exec := u.last("Service.ExecStart")
		fields := strings.Fields(exec)
		if len(fields) < 2 || filepath.Base(fields[0]) != "spacecast" {
			t.Fatalf("%s: ExecStart %q does not run spacecast", where, exec)
		}
		// ${VAR} must come from the example environment file (or systemd's own Environment=).
		defined := map[string]bool{}
		for k := range example {
			defined[k] = true
		}
		for _, e := range u["Service.Environment"] {
			k, _, _ := strings.Cut(e, "=")
			defined[k] = true
			if secretName.MatchString(k) && !strings.HasSuffix(k, "_CREDS") {
				t.Errorf("%s: Environment=%s writes a secret into the unit; use the secrets EnvironmentFile", where, k)
			}
		}
		args := make([]string, len(fields)-1)
		for i, a := range fields[1:] {
			args[i] = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`).ReplaceAllStringFunc(a, func(m string) string {
				name := strings.Trim(m, "${}")
				if !defined[name] {
					t.Errorf("%s: ExecStart uses %s, which spacecast.env.example and Environment= do not define", where, m)
				}
				return "VALUE"
			})
		}
		inv, err := parseInvocation(where, args)
		t.Run("flags/"+filepath.Base(path), func(t *testing.T) {
			if err != nil {
				t.Fatal(err)
			}
		})
		if inv.command == "" {
			inv.command = args[0]
			inv.flags = roughFlags(args[1:])
		}
		seen[inv.command] = true
		checkSecretsByReference(t, inv)

		if u.last("Service.KillSignal") != "SIGTERM" {
			t.Errorf("%s: KillSignal is %q, want SIGTERM (it starts the drain)", where, u.last("Service.KillSignal"))
		}
		for key, want := range map[string]string{
			"Service.NoNewPrivileges": "yes", "Service.ProtectSystem": "strict", "Service.DynamicUser": "yes",
			"Service.PrivateTmp": "yes", "Service.ProtectHome": "yes",
		} {
			if got := u.last(key); got != want {
				t.Errorf("%s: %s=%q, want %q", where, strings.TrimPrefix(key, "Service."), got, want)
			}
		}
		if len(u["Service.EnvironmentFile"]) == 0 {
			t.Errorf("%s: no EnvironmentFile: where do NATS_URL and the secrets come from?", where)
		}
		stop, err := systemdSpan(u.last("Service.TimeoutStopSec"))
		if err != nil {
			t.Errorf("%s: TimeoutStopSec: %v", where, err)
		}
		if inv.command == "worker" {
			checkDrain(t, inv, stop, "TimeoutStopSec")
			// ProtectSystem=strict leaves only the unit's own directories writable.
			spool, _ := inv.value("spool")
			var dirs []string
			for _, key := range []string{"Service.StateDirectory", "Service.CacheDirectory"} {
				base := map[string]string{"Service.StateDirectory": "/var/lib/", "Service.CacheDirectory": "/var/cache/"}[key]
				for _, v := range u[key] {
					for _, d := range strings.Fields(v) {
						dirs = append(dirs, base+d)
					}
				}
			}
			if !slices.ContainsFunc(dirs, func(d string) bool { return spool == d || strings.HasPrefix(spool, d+"/") }) {
				t.Errorf("%s: --spool %q is not in the unit's StateDirectory or CacheDirectory %v: ProtectSystem=strict makes it read-only", where, spool, dirs)
			}
		}
	}
	for _, c := range []string{"worker", "webhook"} {
		if !seen[c] {
			t.Errorf("deploy/systemd: no unit runs spacecast %s", c)
		}
	}
}

// TestSystemdVerify runs systemd's own check of the units (unknown keys, bad values), with the
// binary's path pointed at an executable that exists here.
func TestSystemdVerify(t *testing.T) {
	analyze := testutil.Require(t, "systemd-analyze")
	units, _ := filepath.Glob("systemd/*.service")
	dir := t.TempDir()
	var copies []string
	for _, path := range units {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("ExecStart=/usr/local/bin/spacecast "), []byte("ExecStart=/bin/true "))
		p := filepath.Join(dir, filepath.Base(path))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, p)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, copies...)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestImageDefinitionsAgree: the Dockerfile, the release Dockerfile and scripts/build-image.sh
// install the same runtime packages and run as the same user as the pods.
func TestImageDefinitionsAgree(t *testing.T) {
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	packages := func(path, re string) []string {
		m := regexp.MustCompile(re).FindStringSubmatch(read(path))
		if m == nil {
			t.Fatalf("%s: no runtime package list (%s)", path, re)
		}
		p := strings.Fields(m[1])
		sort.Strings(p)
		return p
	}
	docker := packages("../Dockerfile", `(?m)^ARG RUNTIME_PACKAGES="([^"]+)"`)
	release := packages("../Dockerfile.goreleaser", `(?m)^ARG RUNTIME_PACKAGES="([^"]+)"`)
	script := packages("../scripts/build-image.sh", `(?m)^runtime_packages="([^"]+)"`)
	if !slices.Equal(docker, release) || !slices.Equal(docker, script) {
		t.Errorf("runtime packages differ: Dockerfile %v, Dockerfile.goreleaser %v, build-image.sh %v", docker, release, script)
	}
	for _, lib := range []string{"libopus0", "libmp3lame0", "libsoxr0", "ca-certificates"} {
		if !slices.Contains(docker, lib) {
			t.Errorf("the runtime packages %v lack %s", docker, lib)
		}
	}
	user := fmt.Sprintf("%d:%d", imageUID, imageUID)
	for _, f := range []string{"../Dockerfile", "../Dockerfile.goreleaser"} {
		if !regexp.MustCompile(`(?m)^USER ` + user + `$`).MatchString(read(f)) {
			t.Errorf("%s: no USER %s", f, user)
		}
		if !strings.Contains(read(f), `ENTRYPOINT ["/usr/local/bin/spacecast"]`) {
			t.Errorf("%s: the entrypoint is not /usr/local/bin/spacecast", f)
		}
	}
	if !regexp.MustCompile(`(?m)^uid=` + strconv.Itoa(imageUID) + `$`).MatchString(read("../scripts/build-image.sh")) {
		t.Errorf("scripts/build-image.sh: the image's user is not %d", imageUID)
	}

	// goreleaser builds its image from Dockerfile.goreleaser around the build it names.
	var g struct {
		Builds []struct {
			ID string `yaml:"id"`
		} `yaml:"builds"`
		Dockers []struct {
			IDs        []string `yaml:"ids"`
			Dockerfile string   `yaml:"dockerfile"`
			Images     []string `yaml:"images"`
		} `yaml:"dockers_v2"`
	}
	if err := yaml.Unmarshal([]byte(read("../.goreleaser.yaml")), &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Dockers) != 1 {
		t.Fatalf(".goreleaser.yaml: %d dockers_v2 entries, want 1", len(g.Dockers))
	}
	d := g.Dockers[0]
	if d.Dockerfile != "Dockerfile.goreleaser" || len(d.Images) == 0 {
		t.Errorf(".goreleaser.yaml: dockers_v2 builds %q into %v, want Dockerfile.goreleaser into an image", d.Dockerfile, d.Images)
	}
	for _, id := range d.IDs {
		if !slices.ContainsFunc(g.Builds, func(b struct {
			ID string `yaml:"id"`
		}) bool {
			return b.ID == id
		}) {
			t.Errorf(".goreleaser.yaml: dockers_v2 names build %q, which builds does not have", id)
		}
	}
	// The manifests run the image goreleaser pushes.
	for _, o := range ofKind(loadObjects(t, "kubernetes"), "Deployment") {
		img := decodeSpec[deploymentSpec](t, o).Template.Spec.Containers[0].Image
		name, _, _ := strings.Cut(img, ":")
		if !slices.Contains(d.Images, name) {
			t.Errorf("%s: Deployment %s runs %s, goreleaser pushes %v", o.file, o.Metadata.Name, img, d.Images)
		}
	}
}
