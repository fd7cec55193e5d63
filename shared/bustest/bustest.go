// Package bustest is the behaviour every moji.Bus must have, run by each
// adapter's tests (mem, redis) so that they stay interchangeable.
package bustest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
)

// Types checks that a subscription gets the events of the types it asked
// for, in order, and no others, and that one asking for none gets all.
// pub and sub are the same bus, or two handles on it (two processes).
func Types(t *testing.T, pub, sub moji.Bus) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subs := []struct {
		name  string
		types []string
		ch    <-chan moji.Event
		want  []string // type/task of each event, in order
	}{
		{name: "every type", want: []string{
			"task.progress/t1", "task.deleted/t1", "task.done/t1", "task.failed/t2", "ranking.updated/",
			"task.deleted/end", "task.failed/end", "ranking.updated/end"}},
		{name: "a worker's", types: []string{moji.EventTaskDeleted}, want: []string{"task.deleted/t1", "task.deleted/end"}},
		{name: "two types", types: []string{moji.EventTaskDone, moji.EventTaskFailed}, want: []string{
			"task.done/t1", "task.failed/t2", "task.failed/end"}},
	}
	for i := range subs {
		ch, err := sub.Subscribe(ctx, subs[i].types...)
		if err != nil {
			t.Fatalf("Subscribe(%q): %v", subs[i].types, err)
		}
		subs[i].ch = ch
	}
	// Each subscription's last event is one it wants, so that reading as
	// many as it wants shows any it should not have had.
	for _, e := range []moji.Event{
		{Type: moji.EventTaskProgress, TaskID: "t1", Percent: 10},
		{Type: moji.EventTaskDeleted, TaskID: "t1"},
		{Type: moji.EventTaskDone, TaskID: "t1"},
		{Type: moji.EventTaskFailed, TaskID: "t2"},
		{Type: moji.EventRankingUpdated},
		{Type: moji.EventTaskDeleted, TaskID: "end"},
		{Type: moji.EventTaskFailed, TaskID: "end"},
		{Type: moji.EventRankingUpdated, TaskID: "end"},
	} {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		err := pub.Publish(pctx, e)
		pcancel()
		if err != nil {
			t.Fatalf("Publish(%s): %v", e.Type, err)
		}
	}
	for _, s := range subs {
		var got []string
		for len(got) < len(s.want) {
			select {
			case e := <-s.ch:
				got = append(got, e.Type+"/"+e.TaskID)
			case <-time.After(5 * time.Second):
				t.Fatalf("%s subscription: got %q, then nothing; want %q", s.name, got, s.want)
			}
		}
		if !slices.Equal(got, s.want) {
			t.Errorf("%s subscription: got %q, want %q", s.name, got, s.want)
		}
	}
}
