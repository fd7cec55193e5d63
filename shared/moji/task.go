package moji

import (
	"context"
	"time"
)

// ValidTaskID reports whether id has a task id's form: 32 lower-case hex
// digits (128 random bits).
func ValidTaskID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// TaskState is where a task is in its life.
type TaskState string

const (
	TaskQueued  TaskState = "queued"  // stored, waiting for a worker
	TaskRunning TaskState = "running" // a worker holds it (see Stage)
	TaskDone    TaskState = "done"    // Result is set
	TaskFailed  TaskState = "failed"  // Error is set; final
)

// Stage is the step a running task is at, in order.
type Stage string

const (
	StageQueued      Stage = "queued"
	StageDetecting   Stage = "detecting"
	StageReading     Stage = "reading"     // reading expressions
	StageCompositing Stage = "compositing" // pasting the emoji, encoding, storing
	StageDone        Stage = "done"
)

// Task is one photo to emojify. ID is unguessable (128 random bits): for an
// anonymous task, holding it is the only credential.
type Task struct {
	ID         string     `json:"task_id"`
	OwnerID    int64      `json:"-"` // 0: anonymous
	TemplateID int64      `json:"template_id"`
	State      TaskState  `json:"state"`
	Stage      Stage      `json:"stage"`
	Percent    int        `json:"percent"`
	Result     *Result    `json:"result"`
	Error      *TaskError `json:"error"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	// PhotoKey is the blob of the uploaded photo; "" once deleted after
	// processing.
	PhotoKey string `json:"-"`
	// Attempts counts the workers that have claimed the task.
	Attempts int `json:"-"`
	// Lease is the claim of the worker running it: the task is stalled, and
	// may be claimed again, once LeaseUntil has passed.
	Lease      string    `json:"-"`
	LeaseUntil time.Time `json:"-"`
	// ShareSlug is set while the result is shared (/s/{slug}).
	ShareSlug string `json:"-"`
}

// TaskError says why a task failed, in words a person understands.
type TaskError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Result is a finished task's picture and faces. ImageKey is the stored
// blob; the server fills ImageURL from it.
type Result struct {
	ImageKey string       `json:"-"`
	ImageURL string       `json:"image_url"`
	Width    int          `json:"width"`
	Height   int          `json:"height"`
	Faces    []FaceResult `json:"faces"`
}

// FaceResult is one face of a result, in the result image's pixels.
type FaceResult struct {
	Box        [4]float64             `json:"box"` // x, y, w, h
	Expression Expression             `json:"expression"`
	Probs      map[Expression]float64 `json:"probs"`
}

// RankItem is one row of the ranking: an active template and its uses in
// the ranking window.
type RankItem struct {
	Rank     int      `json:"rank"`
	Uses     int      `json:"uses"`
	Template Template `json:"template"`
}

// Event types, as sent over the bus and the WebSocket.
const (
	EventTaskProgress   = "task.progress"
	EventTaskDone       = "task.done"
	EventTaskFailed     = "task.failed"
	EventRankingUpdated = "ranking.updated"
	// EventTaskDeleted tells workers that a task was deleted, so that one
	// running it stops at once. Clients are not sent it.
	EventTaskDeleted = "task.deleted"
	// EventSessionsEnded tells servers that user OwnerID's sessions ended
	// (the password changed, the account was deleted): their open
	// connections whose tokens are not of password Version (-1: none
	// counts) close as on an expired token. Clients are not sent it.
	EventSessionsEnded = "user.sessions_ended"
)

// Event is a message on the bus. Task events carry the owner so that a
// server can route them to the owner's connections; OwnerID never leaves
// the server. A ranking event on the bus says only "uses changed"; each
// server reads the ranking from the database before telling its clients.
type Event struct {
	Type    string     `json:"type"`
	TaskID  string     `json:"task_id,omitempty"`
	OwnerID int64      `json:"owner_id,omitempty"`
	Stage   Stage      `json:"stage,omitempty"`
	Percent int        `json:"percent,omitempty"`
	Result  *Result    `json:"result,omitempty"`
	Error   *TaskError `json:"error,omitempty"`
	// Version is the password version still valid, for EventSessionsEnded.
	Version int64 `json:"version,omitempty"`
}

// Delivery is a task id handed to a worker by a Queue. Ack it once the task
// is finished (done or failed) or found already finished; an unacknowledged
// delivery comes back after the queue's visibility timeout.
type Delivery struct {
	TaskID string
	// ID is the queue's own handle for Ack.
	ID string
	// Deliveries counts how often the queue has handed this entry out,
	// this time included.
	Deliveries int
}

// Queue carries task ids from the server to the workers. Delivery is at
// least once: the database decides who really runs a task (see the
// store's ClaimTask), so a duplicate costs a look-up, never a second result.
type Queue interface {
	// Enqueue adds a task id.
	Enqueue(ctx context.Context, taskID string) error
	// Receive blocks until a task id is available or ctx ends.
	Receive(ctx context.Context, consumer string) (Delivery, error)
	// Ack removes a delivered entry for good.
	Ack(ctx context.Context, d Delivery) error
	// Len is the number of entries not yet acknowledged.
	Len(ctx context.Context) (int64, error)
	// TaskIDs returns the task ids of the entries not yet acknowledged,
	// when there are at most limit entries; complete is false, and the
	// ids partial, when there are more.
	TaskIDs(ctx context.Context, limit int) (ids map[string]bool, complete bool, err error)
}

// Bus carries events between processes: workers publish, servers relay to
// their WebSocket clients. Delivery is best effort (clients fall back to
// polling); publishers never block on slow subscribers.
type Bus interface {
	Publish(ctx context.Context, e Event) error
	// Subscribe returns a channel of the events of the given types (of
	// every type when none is given) published from now on, closed when
	// ctx ends or the subscription breaks. A worker asks for deletions
	// only, and so is not sent every other worker's progress.
	Subscribe(ctx context.Context, types ...string) (<-chan Event, error)
}
