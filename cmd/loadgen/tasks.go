package main

// The tasks mode (make bench-tasks): photos submitted as tasks to a
// running server whose workers are separate processes, each task followed
// to its end. It measures what a person waits for, submit to done, and
// what the whole setup sustains, tasks per second.
//
// -c tasks are in flight at all times: each of -c clients submits a photo,
// waits for it to finish, then submits the next (a closed loop, so the
// queue never grows without bound and latency stays meaningful), taking
// every c-th task. Each client is a person of its own, as the server's
// per-user and per-address limits expect: its own users and a loopback
// address of its own (see person and sources).
//
// A task counts as finished when its owner's WebSocket brings task.done,
// or when a poll of GET /api/v1/faces/tasks/{id} finds it done, whichever
// comes first; the poll also covers a lost event. Each done task is then
// read once more through the API, which must show its result.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
)

// tasksReport is what one run measured; the JSON line is for the record.
type tasksReport struct {
	Tasks       int       `json:"tasks"`
	Done        int       `json:"done"`
	Failures    int       `json:"failures"`
	Concurrency int       `json:"concurrency"`
	Photos      int       `json:"photos"`
	Template    int64     `json:"template"`
	Wall        float64   `json:"wall_s"`
	TPS         float64   `json:"tasks_per_s"`
	Latency     quantiles `json:"latency"` // submit to done, done tasks
	ByWS        int       `json:"seen_first_by_ws"`
	ByPoll      int       `json:"seen_first_by_poll"`
	// Mean time a worker spent in each pipeline stage per task, from the
	// workers' own histograms: where a task's time goes.
	StageMS    map[string]float64 `json:"worker_stage_ms"`
	Procs      []procReport       `json:"processes"`
	LoadgenCPU float64            `json:"loadgen_cpu_cores"`
	OtherCPU   float64            `json:"other_cpu_cores"`
	CPUs       int                `json:"cpus"`
}

// procReport is one server or worker process over the measured window.
type procReport struct {
	Name      string  `json:"name"`
	RSSBefore float64 `json:"rss_before_mib"`
	RSSAfter  float64 `json:"rss_after_mib"`
	CPU       float64 `json:"cpu_cores"`
	Finished  int     `json:"tasks_done"` // tasks this process ran to done
}

// proc is a process whose /metrics the report reads.
type proc struct{ name, url string }

// taskResult is one submitted task's fate.
type taskResult struct {
	lat time.Duration // submit to done
	end time.Time
	by  string // who saw it finish first: ws or poll
	err error
}

func runTasks(ctx context.Context, o options) error {
	photos, err := readPhotos(o.photos)
	if err != nil {
		return err
	}
	procs := []proc{{"server", o.url + "/metrics"}}
	for i, u := range splitList(o.workerMetrics) {
		procs = append(procs, proc{fmt.Sprintf("worker%d", i+1), u})
	}
	if _, err := scrapeAll(ctx, procs); err != nil { // fail before any setup
		return err
	}

	src := newSources(o.url)
	fin := newFinishes()
	perPerson := (o.n + o.c - 1) / o.c
	users := (perPerson + tasksPerUser - 1) / tasksPerUser
	logf("signing up %d clients × %d users (at most %d tasks each, under the per-user limits) and opening their WebSockets", o.c, users, tasksPerUser)
	if !src.loopback && o.c*users > maxUsersPerAddr {
		return fmt.Errorf("%d users from one address: the server allows %d sign-ups per address; lower -c or -n, or use a loopback -url", o.c*users, maxUsersPerAddr)
	}
	people, closeAll, err := newPeople(ctx, src, o.c, users, fin)
	defer closeAll()
	if err != nil {
		return err
	}
	if o.warmupTasks > 0 {
		logf("warm-up: %d tasks, not measured", o.warmupTasks)
		res, _ := runPhase(ctx, o, people, photos, fin, o.warmupTasks)
		for _, r := range res {
			if r.err != nil {
				return fmt.Errorf("warm-up: %w", r.err)
			}
		}
	}

	before, err := scrapeAll(ctx, procs)
	if err != nil {
		return err
	}
	cpu0, err := sampleCPU(os.Getpid())
	if err != nil {
		return err
	}
	logf("measuring: %d tasks, %d in flight, %d photos in turn, template %d", o.n, o.c, len(photos), o.template)
	res, start := runPhase(ctx, o, people, photos, fin, o.n)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	after, err := scrapeAll(ctx, procs)
	if err != nil {
		return err
	}
	cpu1, err := sampleCPU(os.Getpid())
	if err != nil {
		return err
	}

	r := summarize(o, len(photos), start, res)
	r.Procs, r.LoadgenCPU, r.OtherCPU = procReports(procs, before, after, cpu0, cpu1)
	r.StageMS = stageMeans(before, after)
	printTasks(r)
	return failures(res)
}

// ownersWithSockets signs up n users and opens each one's WebSocket; it
// returns their tokens and a function that closes the sockets.
func ownersWithSockets(ctx context.Context, c client, n int, fin *finishes) ([]string, func(), error) {
	tag := runTag()
	var socks []*ownerSocket
	closeAll := func() {
		for _, s := range socks {
			s.close()
		}
	}
	tokens := make([]string, n)
	for k := range n {
		tok, err := newUserWith(ctx, c.hc, c.base, fmt.Sprintf("bt%su%d", tag, k))
		if err != nil {
			return nil, closeAll, err
		}
		s, err := c.dialOwner(ctx, tok, fin)
		if err != nil {
			return nil, closeAll, err
		}
		tokens[k], socks = tok, append(socks, s)
	}
	return tokens, closeAll, nil
}

// person is one simulated client: an address of its own and users of its
// own, each with its WebSocket open. The server limits uploads in flight
// per user (two) and photos per user (sixty, then slower), and sign-ups
// per address (twenty).
type person struct {
	c      client
	tokens []string
}

// newPeople makes n people with users each; close ends their sockets.
func newPeople(ctx context.Context, src *sources, n, users int, fin *finishes) ([]person, func(), error) {
	var closers []func()
	closeAll := func() {
		for _, f := range closers {
			f()
		}
	}
	people := make([]person, n)
	for k := range people {
		c := src.get(k)
		tokens, closeSocks, err := ownersWithSockets(ctx, c, users, fin)
		closers = append(closers, closeSocks)
		if err != nil {
			return nil, closeAll, fmt.Errorf("client %d: %w", k+1, err)
		}
		people[k] = person{c: c, tokens: tokens}
	}
	return people, closeAll, nil
}

// runPhase runs n tasks, task i by person i mod len(people) (each person
// works through its share one task at a time) and showing photo i mod
// len(photos); a person's j-th task of the phase is owned by its user
// j/tasksPerUser. It returns every task's fate and when the first submit
// started.
func runPhase(ctx context.Context, o options, people []person, photos []photo, fin *finishes, n int) ([]taskResult, time.Time) {
	res := make([]taskResult, n)
	var wg sync.WaitGroup
	start := time.Now()
	for k, p := range people[:min(len(people), n)] {
		wg.Go(func() {
			for j, i := 0, k; i < n && ctx.Err() == nil; j, i = j+1, i+len(people) {
				res[i] = runTask(ctx, o, p.c, photos[i%len(photos)], p.tokens[j/tasksPerUser], fin)
			}
		})
	}
	wg.Wait()
	return res, start
}

// runTask submits one photo and follows it to its end.
func runTask(ctx context.Context, o options, c client, p photo, token string, fin *finishes) taskResult {
	t0 := time.Now()
	id, err := c.submit(ctx, token, p, o.template)
	if err != nil {
		return taskResult{end: time.Now(), err: err}
	}
	e, err := follow(ctx, o, c, token, id, fin.entry(id), fin)
	if err != nil {
		return taskResult{end: time.Now(), err: fmt.Errorf("task %s (%s): %w", id, p.name, err)}
	}
	return taskResult{lat: e.at.Sub(t0), end: e.at, by: e.by}
}

// follow waits for the task to be seen finished, polling it every -poll
// meanwhile, then checks through the API that it is done with a result.
func follow(ctx context.Context, o options, c client, token, id string, e *finish, fin *finishes) (*finish, error) {
	deadline := time.NewTimer(o.timeout)
	defer deadline.Stop()
	tick := time.NewTicker(o.poll)
	defer tick.Stop()
	var last taskView
	for {
		select {
		case <-e.seen:
			if e.by == "poll" {
				return e, last.check() // last is the view that finished it
			}
			v, err := c.task(ctx, token, id)
			if err == nil {
				err = v.check()
			}
			if err != nil {
				return nil, fmt.Errorf("after %s on the WebSocket: %w", e.state, err)
			}
			return e, nil
		case <-tick.C:
			v, err := c.task(ctx, token, id)
			if err != nil {
				return nil, err
			}
			if v.State == moji.TaskDone || v.State == moji.TaskFailed {
				last = v
				fin.see(id, v.State, "poll", time.Now())
			}
		case <-deadline.C:
			return nil, fmt.Errorf("not finished within -timeout %s", o.timeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func summarize(o options, nPhotos int, start time.Time, res []taskResult) tasksReport {
	r := tasksReport{Tasks: len(res), Concurrency: o.c, Photos: nPhotos, Template: o.template, CPUs: runtime.NumCPU()}
	var lat []time.Duration
	end := start
	for _, t := range res {
		if t.end.After(end) {
			end = t.end
		}
		if t.err != nil {
			r.Failures++
			continue
		}
		r.Done++
		lat = append(lat, t.lat)
		if t.by == "ws" {
			r.ByWS++
		} else {
			r.ByPoll++
		}
	}
	wall := end.Sub(start).Seconds()
	r.Wall = round(wall)
	if wall > 0 {
		r.TPS = round(float64(r.Done) / wall)
	}
	r.Latency = quantilesOf(lat)
	return r
}

// scrapeAll reads every process's metrics.
func scrapeAll(ctx context.Context, procs []proc) ([]metrics, error) {
	out := make([]metrics, len(procs))
	for i, p := range procs {
		m, err := scrape(ctx, p.url)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
		out[i] = m
	}
	return out, nil
}

// procReports compares the scrapes before and after the load: memory,
// busy cores and tasks done per process, and the generator's and the rest
// of the machine's busy cores (MariaDB, Redis and anything else).
func procReports(procs []proc, before, after []metrics, cpu0, cpu1 cpuSample) ([]procReport, float64, float64) {
	wall := cpu1.at.Sub(cpu0.at).Seconds()
	const done = `igemoji_tasks_finished_total{outcome="done"}`
	out := make([]procReport, len(procs))
	var ours float64
	for i, p := range procs {
		cpu := after[i]["process_cpu_seconds_total"] - before[i]["process_cpu_seconds_total"]
		ours += cpu
		out[i] = procReport{Name: p.name, RSSBefore: round(before[i].rssMiB()), RSSAfter: round(after[i].rssMiB()),
			CPU: round(cpu / wall), Finished: int(after[i][done] - before[i][done])}
	}
	self := cpu1.self - cpu0.self
	other := max(0, (cpu1.system-cpu0.system)-self-ours)
	return out, round(self / wall), round(other / wall)
}

// stages are the pipeline stages the workers time, in order.
var stages = []string{"detecting", "reading", "compositing"}

// stageMeans is the mean time per stage over the tasks the processes
// worked on between the scrapes.
func stageMeans(before, after []metrics) map[string]float64 {
	out := map[string]float64{}
	for _, st := range stages {
		series := `igemoji_task_stage_duration_seconds_%s{stage="` + st + `"}`
		var sum, n float64
		for i := range after {
			sum += after[i][fmt.Sprintf(series, "sum")] - before[i][fmt.Sprintf(series, "sum")]
			n += after[i][fmt.Sprintf(series, "count")] - before[i][fmt.Sprintf(series, "count")]
		}
		if n > 0 {
			out[st] = round(sum / n * 1000)
		}
	}
	return out
}

func printTasks(r tasksReport) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "tasks\t%d (%d done, %d failed), %d in flight, %d photos in turn, template %d\n",
		r.Tasks, r.Done, r.Failures, r.Concurrency, r.Photos, r.Template)
	fmt.Fprintf(tw, "wall time\t%.2f s\n", r.Wall)
	fmt.Fprintf(tw, "tasks/s\t%.2f\n", r.TPS)
	q := r.Latency
	fmt.Fprintf(tw, "submit→done p50 / p95 / p99 / max\t%.0f / %.0f / %.0f / %.0f ms\n", q.P50, q.P95, q.P99, q.Max)
	fmt.Fprintf(tw, "seen done first by\tWebSocket %d, poll %d\n", r.ByWS, r.ByPoll)
	if len(r.StageMS) > 0 {
		parts := make([]string, len(stages))
		for i, st := range stages {
			parts[i] = fmt.Sprintf("%s %.0f ms", st, r.StageMS[st])
		}
		fmt.Fprintf(tw, "worker time per task (mean)\t%s\n", strings.Join(parts, ", "))
	}
	for _, p := range r.Procs {
		work := ""
		if p.Name != "server" || p.Finished > 0 { // a server with in-process workers
			work = fmt.Sprintf(", %d tasks done", p.Finished)
		}
		fmt.Fprintf(tw, "%s\tRSS %.1f MiB after (%.1f before), %.2f cores busy%s\n", p.Name, p.RSSAfter, p.RSSBefore, p.CPU, work)
	}
	fmt.Fprintf(tw, "other busy cores\tgenerator %.2f, rest of the machine %.2f (MariaDB, Redis, …) of %d CPUs\n", r.LoadgenCPU, r.OtherCPU, r.CPUs)
	tw.Flush()
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

// failures summarizes the failed tasks as an error, nil when none failed.
func failures(res []taskResult) error {
	var errs []error
	n := 0
	for _, r := range res {
		if r.err != nil {
			if n++; n <= 5 {
				errs = append(errs, r.err)
			}
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d tasks failed; the first: %w", n, len(res), errors.Join(errs...))
}
