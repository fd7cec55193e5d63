package main

// The operations setup: docker-compose.yml validated as Compose reads it,
// and its topology run as processes (no Docker engine here): nginx and
// Prometheus from Debian's packages, the machine's MariaDB, a private
// Redis, two servers and two workers of the built binary. Real photos go
// through nginx over HTTP and WebSocket, and every Grafana panel's query
// and every alert's measured quantity must return series from Prometheus.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/igemoji/igemoji/shared/moji"
)

const repoRoot = "../.."

func TestComposeFile(t *testing.T) {
	// .env.example's variables with the required ones filled in, as an
	// operator's .env would have them.
	env := []string{"MARIADB_PASSWORD=pw", "IGEMOJI_JWT_SECRET=" + strings.Repeat("s", 64), "GRAFANA_ADMIN_PASSWORD=pw"}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(repoRoot, "docker-compose.yml")},
		cli.WithEnv(env), cli.WithName("igemoji"), cli.WithWorkingDirectory(repoRoot))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	want := []string{"grafana", "igemoji1", "igemoji2", "mariadb", "nginx", "prometheus", "redis", "worker"}
	if got := p.ServiceNames(); !slices.Equal(sorted(got), want) {
		t.Fatalf("services: got %v, want %v", sorted(got), want)
	}
	for name, s := range p.Services {
		if s.Restart == "" {
			t.Errorf("%s: no restart policy", name)
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s: no health check", name)
		}
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume && p.Volumes[v.Source].Name == "" {
				t.Errorf("%s: volume %q is not a named volume of the project", name, v.Source)
			}
		}
	}
	if w := p.Services["worker"]; w.Deploy == nil || w.Deploy.Replicas == nil || *w.Deploy.Replicas != 2 {
		t.Errorf("worker: want 2 replicas")
	}
	for _, name := range []string{"igemoji1", "igemoji2", "worker"} {
		e := p.Services[name].Environment
		for _, k := range []string{"IGEMOJI_DATABASE_URL", "IGEMOJI_REDIS_URL", "IGEMOJI_JWT_SECRET"} {
			if v := e[k]; v == nil || *v == "" {
				t.Errorf("%s: %s is not set", name, k)
			}
		}
	}
	// Secrets come from .env, never from the file or an image.
	raw, _ := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	for _, line := range strings.Split(string(raw), "\n") {
		l := strings.TrimSpace(line)
		for _, k := range []string{"PASSWORD:", "JWT_SECRET:"} {
			if strings.Contains(l, k) && !strings.Contains(l, "${") && !strings.HasPrefix(l, "#") && !strings.Contains(l, "RANDOM_ROOT_PASSWORD") {
				t.Errorf("docker-compose.yml: a literal secret: %q", l)
			}
		}
	}
	// Without the required secrets Compose refuses to start, saying which.
	bare, _ := cli.NewProjectOptions([]string{filepath.Join(repoRoot, "docker-compose.yml")},
		cli.WithEnv(nil), cli.WithName("igemoji"), cli.WithWorkingDirectory(repoRoot))
	if _, err := bare.LoadProject(context.Background()); err == nil || !strings.Contains(err.Error(), "MARIADB_PASSWORD") {
		t.Errorf("without .env: got %v, want an error naming MARIADB_PASSWORD", err)
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// monitoringQueries are every expression of the Grafana dashboard and every
// alert rule's measure (its quantity, before the threshold that makes it
// fire), with a name for each.
func monitoringQueries(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy/grafana/dashboards/igemoji.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			out["panel "+p.Title+" "+q.RefID] = q.Expr
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	data, err = os.ReadFile(filepath.Join(repoRoot, "deploy/prometheus/alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Annotations["measure"] == "" || r.Expr == "" {
				t.Errorf("alert %s: want an expr and annotations.measure", r.Alert)
			}
			out["alert "+r.Alert] = r.Annotations["measure"]
		}
	}
	if n < 4 {
		t.Errorf("got %d alert rules, want at least 4 (backlog, errors, no worker, stale results)", n)
	}
	return out
}

// tool finds a program from Debian's packages, or skips (fails under CI).
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
			if _, e := os.Stat(filepath.Join(dir, name)); e == nil {
				return filepath.Join(dir, name)
			}
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing (apt-get install %s); CI installs it", name, pkg)
		}
		t.Skipf("!!! SKIPPED: %s is not installed (apt-get install %s) !!!", name, pkg)
	}
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// daemon runs an external program until the test ends, in its own process
// group, so that its children (nginx's workers) go with it.
func daemon(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	logs, err := os.CreateTemp(t.TempDir(), filepath.Base(name)+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		if t.Failed() {
			out, _ := os.ReadFile(logs.Name())
			t.Logf("%s log:\n%s", filepath.Base(name), out)
			if errs, err := os.ReadFile(filepath.Join(filepath.Dir(logs.Name()), "..", "error.log")); err == nil {
				t.Logf("%s error.log:\n%s", filepath.Base(name), errs)
			}
		}
		logs.Close()
	})
	return cmd
}

func waitHTTP(t *testing.T, what, u string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if r, err := http.Get(u); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready at %s within %v", what, u, within)
}

var metricsRE = regexp.MustCompile(`metrics=http://(\S+)/metrics`)

func TestDeployTopology(t *testing.T) {
	nginxBin := tool(t, "nginx", "nginx")
	promBin := tool(t, "prometheus", "prometheus")
	queries := monitoringQueries(t)
	assets := visionAssets(t)
	c := newCluster(t, 2, 2)
	dir := t.TempDir()

	// nginx: the compose configuration with loopback upstreams and port.
	port := freePort(t)
	var ups strings.Builder
	ups.WriteString("upstream igemoji {\n")
	for _, s := range c.servers {
		fmt.Fprintf(&ups, "    server %s;\n", strings.TrimPrefix(s.base, "http://"))
	}
	ups.WriteString("    keepalive 32;\n}\n")
	site, err := os.ReadFile(filepath.Join(repoRoot, "deploy/nginx/igemoji.conf"))
	if err != nil {
		t.Fatal(err)
	}
	siteConf := strings.Replace(string(site), "listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", port), 1)
	siteConf = strings.Replace(siteConf, "/var/cache/nginx/igemoji", filepath.Join(dir, "cache"), 1)
	if siteConf == string(site) {
		t.Fatal("deploy/nginx/igemoji.conf: no `listen 80;` to point at a test port")
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("upstreams.conf", ups.String())
	write("igemoji.conf", siteConf)
	for _, d := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		os.MkdirAll(filepath.Join(dir, "tmp", d), 0o755)
	}
	// nginx started by root hands requests to workers running as nobody,
	// who could not write into the test's private directory.
	user := ""
	if os.Getuid() == 0 {
		user = "user root root;"
	}
	mainConf := write("nginx.conf", fmt.Sprintf(`daemon off;
%[2]s
worker_processes 2;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    include %[1]s/upstreams.conf;
    include %[1]s/igemoji.conf;
}
`, dir, user))
	daemon(t, nginxBin, "-p", dir, "-c", mainConf)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHTTP(t, "nginx", base+"/healthz", 20*time.Second)

	// Prometheus: the compose jobs with loopback targets, the same rules.
	var workers []string
	for _, w := range c.workers {
		m := metricsRE.FindStringSubmatch(w.logs.String())
		if m == nil {
			t.Fatalf("%s: no metrics address in its log", w.name)
		}
		workers = append(workers, m[1])
	}
	var servers []string
	for _, s := range c.servers {
		servers = append(servers, strings.TrimPrefix(s.base, "http://"))
	}
	rulesPath, _ := filepath.Abs(filepath.Join(repoRoot, "deploy/prometheus/alerts.yml"))
	quote := func(s []string) string { return `"` + strings.Join(s, `", "`) + `"` }
	promConf := write("prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: igemoji-server
    static_configs: [{targets: [%s]}]
  - job_name: igemoji-worker
    static_configs: [{targets: [%s]}]
`, rulesPath, quote(servers), quote(workers)))
	promPort := freePort(t)
	prom := fmt.Sprintf("http://127.0.0.1:%d", promPort)
	daemon(t, promBin, "--config.file="+promConf, "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", promPort))
	waitHTTP(t, "prometheus", prom+"/-/ready", 30*time.Second)

	// Traffic, all through nginx.
	a := &app{t: t, base: base, logs: &syncBuffer{w: nopPipe()}}
	tok := a.signup("ops@example.com", "ops")
	ws := dialWS(t, base, tok) // the WebSocket upgrade through nginx
	var ids []string
	for _, n := range []int{1, 2, 3} {
		ids = append(ids, a.submit(tok, readFile(t, samplePhoto(t, assets, n)), "1").ID)
	}
	// Two workers finish them in any order: wait for all three at once
	// (waiting for each in turn would pass over one that ends early).
	pending := map[string]bool{}
	for _, id := range ids {
		pending[id] = true
	}
	ws.waitFor(90*time.Second, fmt.Sprintf("task.done for each of %v", ids), func(m map[string]any) bool {
		if id, _ := m["task_id"].(string); m["type"] == moji.EventTaskDone {
			delete(pending, id)
		}
		return len(pending) == 0
	})
	got := a.waitTask(tok, ids[0], 5*time.Second)
	if got.Result == nil {
		t.Fatalf("task %s: no result", ids[0])
	}
	// The result picture: fetched twice, the second time from nginx's cache.
	for i, want := range []string{"MISS", "HIT"} {
		r := a.do("GET", got.Result.ImageURL, "", "", nil)
		wantStatus(t, "result image", r, 200)
		if cs := r.header.Get("X-Cache-Status"); cs != want {
			t.Errorf("result image, read %d: X-Cache-Status %q, want %s", i+1, cs, want)
		}
	}
	// A mistake, for the error panels: a 4xx comes back through nginx.
	wantStatus(t, "upload without a photo", a.do("POST", "/api/v1/faces/tasks/", tok, "multipart/form-data; boundary=x", strings.NewReader("--x--\r\n")), 400)
	// Metrics stay inside.
	wantStatus(t, "metrics through nginx", a.do("GET", "/metrics", "", "", nil), 404)
	// Static files come compressed.
	req, _ := http.NewRequest("GET", base+"/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if r, err := http.DefaultTransport.RoundTrip(req); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || r.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("GET / with gzip accepted: %d, Content-Encoding %q; want 200, gzip", r.StatusCode, r.Header.Get("Content-Encoding"))
		}
	}

	// Prometheus: every target up, every rule loaded and healthy, every
	// query with series.
	query := func(q string) (int, error) {
		r, err := http.Get(prom + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return 0, err
		}
		defer r.Body.Close()
		var body struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Data   struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return 0, err
		}
		if body.Status != "success" {
			return 0, fmt.Errorf("%s", body.Error)
		}
		return len(body.Data.Result), nil
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, _ := query(`up{job=~"igemoji-.*"} == 1`)
		if n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("targets up: got %d, want 4 (two servers, two workers)", n)
		}
		time.Sleep(500 * time.Millisecond)
	}
	names := make([]string, 0, len(queries))
	for k := range queries {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		q := queries[name]
		var n int
		var err error
		for {
			n, err = query(q)
			if (err == nil && n > 0) || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("%s: %s: %v", name, q, err)
		} else if n == 0 {
			t.Errorf("%s: %s: no series", name, q)
		}
	}
	r, err := http.Get(prom + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var rules struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name, Health, LastError string
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	json.NewDecoder(r.Body).Decode(&rules)
	loaded := 0
	for _, g := range rules.Data.Groups {
		for _, rule := range g.Rules {
			loaded++
			if rule.Health != "ok" && rule.Health != "unknown" {
				t.Errorf("rule %s: health %s: %s", rule.Name, rule.Health, rule.LastError)
			}
		}
	}
	if want := strings.Count(string(must(os.ReadFile(rulesPath))), "- alert:"); loaded != want {
		t.Errorf("rules loaded by Prometheus: got %d, want %d", loaded, want)
	}
	t.Logf("%d dashboard and alert queries return series; %d alert rules loaded", len(queries), loaded)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
