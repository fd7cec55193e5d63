import { describe, expect, it } from 'vitest';
import type { Task } from '../../api/types';
import { initialProgress, progressReducer, type ProgressAction, type ProgressState } from './taskProgress';

const result = { image_url: '/media/results/x.jpg', width: 10, height: 10, faces: [] };
const task = (over: Partial<Task>): Task => ({
  task_id: 't1',
  template_id: 1,
  state: 'running',
  stage: 'detecting',
  percent: 10,
  created_at: '',
  updated_at: '',
  result: null,
  error: null,
  ...over,
});
const run = (...actions: ProgressAction[]): ProgressState => actions.reduce(progressReducer, initialProgress);

describe('progressReducer', () => {
  it('switches to polling when the socket is lost, and stays there', () => {
    expect(run({ type: 'socket/lost' }).transport).toBe('polling');
    expect(run({ type: 'socket/opened' }, { type: 'socket/lost' }).transport).toBe('polling');
    expect(run({ type: 'socket/lost' }, { type: 'socket/opened' }).transport).toBe('polling');
  });

  it('moves forward only, whichever path speaks', () => {
    const s = run(
      { type: 'task/message', message: { type: 'task.progress', task_id: 't1', stage: 'reading', percent: 60 } },
      { type: 'task/snapshot', task: task({ stage: 'detecting', percent: 20 }) }, // a late poll
    );
    expect(s).toMatchObject({ state: 'running', stage: 'reading', percent: 60 });
  });

  it('ends at done or failed, and nothing moves it after', () => {
    const done = run({ type: 'task/snapshot', task: task({ state: 'done', stage: 'done', percent: 100, result }) });
    expect(done).toMatchObject({ state: 'done', percent: 100, result });
    const after = progressReducer(done, { type: 'task/message', message: { type: 'task.failed', task_id: 't1', error: { code: 'x', message: '' } } });
    expect(after).toBe(done);
    expect(progressReducer(done, { type: 'socket/lost' }).transport).toBe('connecting');

    const failed = run({ type: 'task/message', message: { type: 'task.failed', task_id: 't1', error: { code: 'gave_up', message: 'no' } } });
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'gave_up' } });
  });
});
