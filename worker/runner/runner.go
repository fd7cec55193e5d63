// Package runner turns queued tasks into results: it takes task ids from
// the queue, claims each in the database, runs the vision pipeline,
// stores the picture and tells the bus how it went. The database decides
// who runs a task (a lease with a deadline), so a duplicate delivery or a
// worker that died half-way costs time, never a second result.
package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"sync"
	"time"

	"github.com/igemoji/igemoji/shared/metrics"
	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/picture"
	"github.com/igemoji/igemoji/shared/store"
	"github.com/igemoji/igemoji/worker/vision"
)

// Config tunes a Runner. Zero values take the defaults.
type Config struct {
	// Name identifies this worker to the queue (a consumer name).
	Name string
	// Concurrency is how many tasks run at once (default 1: the pipeline
	// already spreads one photo over every core).
	Concurrency int
	// Lease is how long a claim lasts without a heartbeat; a task whose
	// worker died is taken over once it lapses (default 30 s).
	Lease time.Duration
	// MaxAttempts bounds the claims of one task before it fails for good
	// (default 3).
	MaxAttempts int
	// MaxSide caps the result's longer side in pixels (default 4096).
	MaxSide int
	// KeepPhotos keeps uploaded originals after processing; by default
	// they are deleted as soon as the result is stored.
	KeepPhotos bool
	// Grace is how long a task in flight may go on after Run's context
	// ends (default 20 s); past it, the task is left to its lease.
	Grace time.Duration
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "worker-" + randomHex(4)
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 1
	}
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.MaxSide <= 0 {
		c.MaxSide = 4096
	}
	if c.Grace <= 0 {
		c.Grace = 20 * time.Second
	}
	return c
}

// Runner processes tasks.
type Runner struct {
	cfg     Config
	log     *slog.Logger
	db      *store.DB
	blobs   moji.Blobs
	queue   moji.Queue
	bus     moji.Bus
	vision  *vision.Pipeline
	metrics *metrics.Metrics
	emoji   *emojiCache

	mu      sync.Mutex
	running map[string]*context.CancelCauseFunc // task id → stops its work
}

// errDeleted stops the work on a task deleted while it ran. Deleting
// clears the lease, so it is a lost lease.
var errDeleted = fmt.Errorf("task deleted while it ran: %w", store.ErrLeaseLost)

// New wires a runner; m may be nil.
func New(cfg Config, log *slog.Logger, db *store.DB, blobs moji.Blobs, q moji.Queue, bus moji.Bus, p *vision.Pipeline, m *metrics.Metrics) *Runner {
	blobs = newTimedBlobs(blobs)
	return &Runner{cfg: cfg.withDefaults(), log: log, db: db, blobs: blobs, queue: q, bus: bus, vision: p, metrics: m,
		emoji: newEmojiCache(db, blobs, 16), running: map[string]*context.CancelCauseFunc{}}
}

// watch follows the bus until ctx ends, subscribing again after the bus
// drops it, for deletions (see watchDeletions). A deletion it misses is
// noticed at the task's next heartbeat.
func (r *Runner) watch(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		events, err := r.bus.Subscribe(ctx, moji.EventTaskDeleted)
		if err != nil {
			r.log.Warn("event bus: a task deleted while it runs is stopped at its next heartbeat until it is back", "err", err, "retry_in", backoff)
		} else {
			backoff = time.Second
			r.watchDeletions(events)
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// watchDeletions stops the work on tasks deleted while they run, until
// events closes.
func (r *Runner) watchDeletions(events <-chan moji.Event) {
	for e := range events {
		if e.Type != moji.EventTaskDeleted {
			continue
		}
		r.mu.Lock()
		if stop, ok := r.running[e.TaskID]; ok {
			(*stop)(errDeleted)
		}
		r.mu.Unlock()
	}
}

// track makes stop reachable by the task's id until the returned func is
// called; that removes only this entry (the same task may be claimed again
// here once its lease lapsed).
func (r *Runner) track(id string, stop context.CancelCauseFunc) func() {
	p := &stop
	r.mu.Lock()
	r.running[id] = p
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		if r.running[id] == p {
			delete(r.running, id)
		}
		r.mu.Unlock()
	}
}

// Run takes tasks from the queue until ctx ends, Concurrency at a time.
// Queue errors (a broker restarting) are retried with a growing pause.
// When ctx ends, no new task is taken, and tasks in flight get Grace to
// finish.
func (r *Runner) Run(ctx context.Context) error {
	work, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	context.AfterFunc(ctx, func() { time.AfterFunc(r.cfg.Grace, stop) })
	var wg sync.WaitGroup
	wg.Go(func() { r.watch(ctx) })
	for i := range r.cfg.Concurrency {
		consumer := fmt.Sprintf("%s-%d", r.cfg.Name, i)
		wg.Go(func() { r.loop(ctx, work, consumer) })
	}
	wg.Wait()
	return nil
}

// loop receives with ctx and processes with work, which outlives ctx by
// the grace period.
func (r *Runner) loop(ctx, work context.Context, consumer string) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		d, err := r.queue.Receive(ctx, consumer)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Warn("queue receive failed; retrying", "err", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		err = r.Process(work, d.TaskID)
		// Process settles the task in the database whatever happens (done,
		// failed, or handed back and enqueued again), so the entry goes.
		if aerr := r.queue.Ack(context.WithoutCancel(ctx), d); aerr != nil {
			r.log.Warn("queue ack failed (a redelivery finds the task settled)", "task", d.TaskID, "err", aerr)
		}
		if err != nil && work.Err() == nil {
			r.log.Error("task handed back after an error; it will be retried", "task", d.TaskID, "err", err)
			select { // a database outage must not become a busy loop
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
		}
	}
}

// Process runs one task to its end, if this worker can claim it. A nil
// error means the task is settled: finished (by this worker or another),
// deleted, or held by a live worker. An error means it could not be run
// now (a database or storage outage, or shutting down): it has been handed
// back to the queue when that was possible, and the lease covers the rest.
func (r *Runner) Process(ctx context.Context, id string) error {
	lease := randomHex(16)
	t, outcome, err := r.db.Claim(ctx, id, lease, r.cfg.Lease, r.cfg.MaxAttempts)
	if moji.ErrorCode(err) == moji.ENOTFOUND {
		return nil // deleted meanwhile
	}
	if err != nil {
		// The entry is acknowledged whatever happens: put the task back
		// now when the database was away (or we are stopping), rather
		// than leave it to the reconciler's next round.
		if store.Unreachable(err) || ctx.Err() != nil {
			r.requeue(ctx, id)
		}
		return err
	}
	switch outcome {
	case store.GaveUp:
		// This claim gave up; it alone tells the watchers.
		r.count(store.GaveUpCode)
		r.publish(ctx, moji.Event{Type: moji.EventTaskFailed, TaskID: t.ID, OwnerID: t.OwnerID, Error: t.Error})
		r.dropPhoto(ctx, t)
		return nil
	case store.NotClaimed:
		if t.State == moji.TaskDone || t.State == moji.TaskFailed {
			// A redelivery after a worker died between recording the end
			// and cleaning up: finish the clean-up.
			r.dropPhoto(ctx, t)
		}
		return nil
	}
	log := r.log.With("task", id, "attempt", t.Attempts, "worker", r.cfg.Name)
	log.Info("task claimed")

	// The heartbeat keeps the lease while the pipeline runs; losing the
	// lease (another worker took over after a stall) stops the work.
	work, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer r.track(id, cancel)()
	hb := &heartbeat{r: r, id: id, lease: lease, stage: moji.StageDetecting}
	go hb.run(work, cancel)

	res, terr := r.runSafely(work, t, hb)
	if err := context.Cause(work); errors.Is(err, store.ErrLeaseLost) {
		if errors.Is(err, errDeleted) {
			log.Info("task deleted while it ran; stopped")
		} else {
			log.Warn("lease lost; another worker has the task")
		}
		if res != nil {
			r.dropResult(ctx, res.ImageKey)
		}
		return nil
	}
	if terr != nil && ctx.Err() != nil {
		// Shutting down past the grace period: hand the task back at once,
		// without counting the attempt against the photo.
		r.handBack(ctx, t, lease, true)
		return ctx.Err()
	}
	if terr != nil {
		var te *taskError
		if !errors.As(terr, &te) {
			// Ours, not the photo's (storage, database): hand it back for
			// another try; the attempt counts, so a lasting fault ends.
			r.handBack(ctx, t, lease, false)
			return terr
		}
		if err := r.db.FailTask(ctx, id, lease, te.TaskError); err != nil {
			if errors.Is(err, store.ErrLeaseLost) {
				return nil
			}
			return err
		}
		log.Info("task failed", "code", te.Code, "reason", te.Message)
		r.count("failed")
		r.publish(ctx, moji.Event{Type: moji.EventTaskFailed, TaskID: id, OwnerID: t.OwnerID, Error: &te.TaskError})
		r.dropPhoto(ctx, t)
		return nil
	}
	// The picture is made: a short database outage, or the grace period
	// ending now, must not throw it away and cost the photo an attempt.
	// No deadline of its own: retrying bounds the tries, the driver's
	// timeouts each one, and both count a hung database as an outage.
	stopping := ctx
	ctx = context.WithoutCancel(ctx)
	err = retrying(ctx, r.cfg.Lease/2, store.Unreachable, func() error { return r.db.FinishTask(ctx, id, lease, res) }, func(err error) {
		log.Warn("record result; trying again", "err", err)
	})
	if errors.Is(err, store.ErrLeaseLost) {
		// Deleted while it ran, taken over by another worker that stores
		// its own picture, or recorded by a try whose answer an outage lost.
		cur, cerr := r.db.Task(ctx, id)
		switch {
		case cerr == nil && cur.Result != nil && cur.Result.ImageKey == res.ImageKey:
			err = nil // ours: done
		case cerr != nil && moji.ErrorCode(cerr) != moji.ENOTFOUND:
			// Cannot tell whose it is: keep the picture rather than risk
			// breaking a recorded result.
			log.Warn("lease lost and the task cannot be read; result kept", "err", cerr)
			return nil
		default:
			r.dropResult(ctx, res.ImageKey)
			log.Warn("lease lost before the result was recorded; result discarded")
			return nil
		}
	}
	if err != nil {
		outage := store.Unreachable(err)
		if !outage {
			// A failed transaction wrote nothing: the picture is nobody's.
			r.dropResult(ctx, res.ImageKey)
		}
		// An outage is not the photo's fault: the attempt is given back (if
		// the database answers by then; otherwise the lease lapses). Any
		// other fault counts, so that a lasting one ends.
		r.handBack(ctx, t, lease, outage || stopping.Err() != nil)
		return err
	}
	r.count("done")
	if r.metrics != nil {
		r.metrics.TaskDuration.Observe(time.Since(t.CreatedAt).Seconds())
	}
	log.Info("task done", "faces", len(res.Faces))
	r.publish(ctx, moji.Event{Type: moji.EventTaskDone, TaskID: id, OwnerID: t.OwnerID, Result: res})
	r.dropPhoto(ctx, t)
	return nil
}

// retrying runs try until it succeeds, fails in a way transient does not
// accept, ctx ends or within is spent, pausing 0.2 s, then twice as long
// each time up to 2 s; note hears each failure that will be tried again.
func retrying(ctx context.Context, within time.Duration, transient func(error) bool, try func() error, note func(error)) error {
	deadline := time.Now().Add(within)
	wait := 200 * time.Millisecond
	for {
		err := try()
		if err == nil || !transient(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		note(err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// handBack returns a claimed task to the queue now rather than when its
// lease lapses. If the database cannot be reached, the lease does it later.
func (r *Runner) handBack(ctx context.Context, t *moji.Task, lease string, refund bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.db.ReleaseTask(ctx, t.ID, lease, refund); err != nil {
		if !errors.Is(err, store.ErrLeaseLost) {
			r.log.Warn("hand task back; its lease will lapse instead", "task", t.ID, "err", err)
		}
		return
	}
	r.requeue(ctx, t.ID)
}

// requeue puts a task id back on the queue, also while stopping; failing
// that, the reconciler will.
func (r *Runner) requeue(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.queue.Enqueue(ctx, id); err != nil {
		r.log.Warn("re-enqueue task; the reconciler will", "task", id, "err", err)
	}
}

// taskError is a failure of the task itself (a photo that will not
// decode, a deleted template): final, told to the person.
type taskError struct{ moji.TaskError }

func (e *taskError) Error() string { return e.Code + ": " + e.Message }

func failf(code, format string, args ...any) error {
	return &taskError{moji.TaskError{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// run is the pipeline of one claimed task.
// runSafely is run, with a panic (a bug some photo sets off) turned into
// a fault of ours: the task is handed back and the attempt counts, so the
// photo ends as gave_up rather than taking the process, and with it an
// embedded server, down on every try.
func (r *Runner) runSafely(ctx context.Context, t *moji.Task, hb *heartbeat) (res *moji.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("task pipeline panicked", "task", t.ID, "panic", p, "stack", string(debug.Stack()))
			res, err = nil, fmt.Errorf("pipeline panic: %v", p)
		}
	}()
	return r.run(ctx, t, hb)
}

func (r *Runner) run(ctx context.Context, t *moji.Task, hb *heartbeat) (*moji.Result, error) {
	stageStart := time.Now()
	sent := -100
	enter := func(stage moji.Stage, percent int) {
		prev := hb.set(stage, percent)
		if prev == stage && percent-sent < 10 {
			return // a many-face photo would send an event per face
		}
		sent = percent
		if prev != stage {
			if r.metrics != nil {
				r.metrics.StageDuration.WithLabelValues(string(prev)).Observe(time.Since(stageStart).Seconds())
			}
			stageStart = time.Now()
			// A new stage is written through, so that polling shows it
			// too; a lost lease is noticed by the heartbeat.
			if err := hb.write(ctx); err != nil && !errors.Is(err, store.ErrLeaseLost) {
				r.log.Warn("record progress", "task", t.ID, "err", err)
			}
		}
		r.publish(ctx, moji.Event{Type: moji.EventTaskProgress, TaskID: t.ID, OwnerID: t.OwnerID, Stage: stage, Percent: percent})
	}
	enter(moji.StageDetecting, 5)

	emoji, err := r.emoji.get(ctx, t.TemplateID)
	if moji.ErrorCode(err) == moji.ENOTFOUND {
		return nil, failf("template_gone", "The template was deleted before your photo was processed.")
	} else if err != nil {
		return nil, err
	}
	if t.PhotoKey == "" {
		return nil, failf("photo_gone", "The uploaded photo is no longer available; please upload it again.")
	}
	ph, err := r.loadPhoto(ctx, t.PhotoKey)
	if err != nil {
		return nil, err
	}
	img, photoFormat := ph.Image, ph.Format

	faces, _, err := r.vision.AnalyzePhoto(ctx, ph, func(stage moji.Stage, frac float64) {
		switch stage {
		case moji.StageDetecting:
			enter(stage, 10)
		case moji.StageReading:
			enter(stage, 40+int(frac*40))
		}
	})
	if err != nil {
		return nil, err
	}
	enter(moji.StageCompositing, 85)
	// Only PNG and WebP can be transparent; asking a JPEG would scan it.
	alpha := photoFormat != picture.FormatJPEG && picture.HasAlpha(img)
	out := vision.EmojifyOwned(img, faces, emoji)
	var buf bytes.Buffer
	format, err := picture.EncodeWithProfile(&buf, out, alpha, ph.ICC)
	if err != nil {
		return nil, err
	}
	ext := map[string]string{"png": "png", "jpeg": "jpg"}[format]
	// A random name, not the task id: the image's link must not reveal the
	// id, which is an anonymous task's only credential.
	key := "results/" + randomHex(16) + "." + ext
	if err := r.blobs.Put(ctx, key, buf.Bytes()); err != nil {
		// A write cut short (a deletion cancels it) may leave part of it.
		r.dropResult(ctx, key)
		return nil, err
	}
	b := out.Bounds()
	// Encoded: the pixels can take the next photo.
	if out != img {
		picture.Recycle(out)
	}
	ph.Recycle()
	res := &moji.Result{ImageKey: key, Width: b.Dx(), Height: b.Dy(), Faces: make([]moji.FaceResult, 0, len(faces))}
	for _, f := range faces {
		// Tenths of a pixel and four decimals say all there is to say;
		// more digits only make the JSON longer.
		fr := moji.FaceResult{Expression: f.Expression, Probs: f.Probs.Map()}
		for i, v := range f.Box {
			fr.Box[i] = math.Round(v*10) / 10
		}
		for e, p := range fr.Probs {
			fr.Probs[e] = math.Round(p*1e4) / 1e4
		}
		res.Faces = append(res.Faces, fr)
	}
	hb.set(moji.StageDone, 100)
	if r.metrics != nil {
		r.metrics.StageDuration.WithLabelValues(string(moji.StageCompositing)).Observe(time.Since(stageStart).Seconds())
	}
	return res, nil
}

// loadPhoto reads and decodes the upload, capped to MaxSide. A photo that
// will not decode is the task's failure, not the worker's.
func (r *Runner) loadPhoto(ctx context.Context, key string) (picture.Photo, error) {
	f, _, err := r.blobs.Open(ctx, key)
	if moji.ErrorCode(err) == moji.ENOTFOUND {
		return picture.Photo{}, failf("photo_gone", "The uploaded photo is no longer available; please upload it again.")
	} else if err != nil {
		return picture.Photo{}, err
	}
	defer f.Close()
	ph, err := picture.DecodePhoto(f, picture.PhotoLimits, r.cfg.MaxSide)
	if err != nil {
		if code := moji.ErrorCode(err); code != moji.EINTERNAL {
			return picture.Photo{}, failf("bad_photo", "The photo could not be read: %s.", moji.ErrorMessage(err))
		}
		return picture.Photo{}, err
	}
	return ph, nil
}

// dropResult deletes a picture that no task will show (the lease was
// lost, or recording it failed).
func (r *Runner) dropResult(ctx context.Context, key string) {
	if err := r.blobs.Delete(context.WithoutCancel(ctx), key); err != nil {
		r.log.Warn("delete a result nobody will see; it stays in storage", "key", key, "err", err)
	}
}

// dropPhoto deletes the original once the task is finished, unless
// configured to keep it. A failure here is logged: the retention sweep
// tries again.
func (r *Runner) dropPhoto(ctx context.Context, t *moji.Task) {
	if r.cfg.KeepPhotos || t.PhotoKey == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if err := r.blobs.Delete(ctx, t.PhotoKey); err != nil {
		r.log.Warn("delete uploaded photo", "task", t.ID, "err", err)
		return
	}
	if err := r.db.ClearPhoto(ctx, t.ID); err != nil {
		r.log.Warn("clear photo key", "task", t.ID, "err", err)
	}
}

func (r *Runner) publish(ctx context.Context, e moji.Event) {
	// Events are best effort: a hung broker must not hold the pipeline.
	wait := 2 * time.Second
	if e.Type == moji.EventTaskProgress {
		wait = 300 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
	defer cancel()
	if err := r.bus.Publish(ctx, e); err != nil {
		// Events are best effort: clients poll when they miss one.
		r.log.Warn("publish event", "type", e.Type, "task", e.TaskID, "err", err)
	}
}

func (r *Runner) count(outcome string) {
	if r.metrics != nil {
		r.metrics.TasksFinished.WithLabelValues(outcome).Inc()
	}
}

// heartbeat renews the lease every third of its length and records the
// stage, so that a poll shows progress even when no event arrived.
type heartbeat struct {
	r     *Runner
	id    string
	lease string

	mu      sync.Mutex
	stage   moji.Stage
	percent int

	// writing orders the writes of the stage: a renewal that read the
	// stage before a change must not land after the change's own write and
	// put the task back a stage.
	writing sync.Mutex
}

// write records the current stage and renews the lease.
func (h *heartbeat) write(ctx context.Context) error {
	h.writing.Lock()
	defer h.writing.Unlock()
	h.mu.Lock()
	stage, percent := h.stage, h.percent
	h.mu.Unlock()
	if stage == moji.StageDone {
		return nil // FinishTask writes the end
	}
	return h.r.db.TaskProgress(ctx, h.id, h.lease, stage, percent, h.r.cfg.Lease)
}

// set records the stage and percent, returning the previous stage.
func (h *heartbeat) set(stage moji.Stage, percent int) moji.Stage {
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.stage
	h.stage, h.percent = stage, percent
	return prev
}

func (h *heartbeat) run(ctx context.Context, cancel context.CancelCauseFunc) {
	tick := time.NewTicker(max(h.r.cfg.Lease/3, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := h.write(ctx)
		if errors.Is(err, store.ErrLeaseLost) {
			cancel(err)
			return
		}
		if err != nil && ctx.Err() == nil {
			h.r.log.Warn("lease renewal failed", "task", h.id, "err", err)
		}
	}
}

// emptyTrash deletes the files deletions left in the trash at least a
// minute ago (younger ones are their deletion's own to delete).
func (r *Runner) emptyTrash(ctx context.Context) {
	keys, err := r.db.Trashed(ctx, r.db.Now().Add(-time.Minute), 500)
	if err != nil && ctx.Err() == nil {
		r.log.Warn("trash sweep", "err", err)
	}
	for _, f := range r.db.DeleteFiles(ctx, r.blobs, 0, keys...) {
		r.log.Warn("delete a file from the trash", "key", f.Key, "err", f.Err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// Sweep deletes uploaded originals kept past the retention period, and
// the files in the trash that a deletion could not delete, every minute
// until ctx ends.
func (r *Runner) Sweep(ctx context.Context, retention time.Duration) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		r.emptyTrash(ctx)
		ts, err := r.db.ExpiredPhotos(ctx, r.db.Now().Add(-retention), 500)
		if err != nil && ctx.Err() == nil {
			r.log.Warn("photo retention sweep", "err", err)
		}
		for _, t := range ts {
			if err := r.blobs.Delete(ctx, t.PhotoKey); err != nil {
				r.log.Warn("delete expired photo", "task", t.ID, "err", err)
				continue
			}
			if err := r.db.ClearPhoto(ctx, t.ID); err != nil {
				r.log.Warn("clear photo key", "task", t.ID, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
