import { STAGES, type ApiErrorInfo, type Stage, type Task, type TaskMessage, type TaskResult, type TaskState } from '../../api/types';

/**
 * How a task's progress reaches us: the WebSocket while it is open;
 * polling GET /faces/tasks/{id} once it has failed to open or closed.
 */
export type Transport = 'connecting' | 'socket' | 'polling';

export interface ProgressState {
  transport: Transport;
  state: TaskState;
  stage: Stage;
  percent: number;
  result: TaskResult | null;
  error: ApiErrorInfo | null;
}

export type ProgressAction =
  | { type: 'socket/opened' }
  | { type: 'socket/lost' }
  | { type: 'task/message'; message: TaskMessage }
  | { type: 'task/snapshot'; task: Task };

export const initialProgress: ProgressState = {
  transport: 'connecting',
  state: 'queued',
  stage: 'queued',
  percent: 0,
  result: null,
  error: null,
};

export function isFinished(s: Pick<ProgressState, 'state'>): boolean {
  return s.state === 'done' || s.state === 'failed';
}

const later = (a: Stage, b: Stage): Stage => (STAGES.indexOf(b) > STAGES.indexOf(a) ? b : a);

/** Moves forward only: events and polls may arrive late or twice, from either path. */
function advance(s: ProgressState, stage: Stage, percent: number): ProgressState {
  const next = later(s.stage, stage);
  return {
    ...s,
    stage: next,
    state: next === 'queued' ? s.state : 'running',
    percent: Math.max(s.percent, Math.min(100, Math.max(0, percent))),
  };
}

const done = (s: ProgressState, result: TaskResult): ProgressState => ({ ...s, state: 'done', stage: 'done', percent: 100, result, error: null });
const failed = (s: ProgressState, error: ApiErrorInfo): ProgressState => ({ ...s, state: 'failed', error });

export function progressReducer(s: ProgressState, action: ProgressAction): ProgressState {
  switch (action.type) {
    case 'socket/opened':
      return s.transport === 'connecting' ? { ...s, transport: 'socket' } : s;
    case 'socket/lost':
      // Once polling, stay polling: a flapping socket would only add noise.
      return isFinished(s) || s.transport === 'polling' ? s : { ...s, transport: 'polling' };
    case 'task/message': {
      if (isFinished(s)) return s;
      const m = action.message;
      if (m.type === 'task.done') return done(s, m.result);
      if (m.type === 'task.failed') return failed(s, m.error);
      return advance(s, m.stage, m.percent);
    }
    case 'task/snapshot': {
      if (isFinished(s)) return s;
      const task = action.task;
      if (task.state === 'done' && task.result) return done(s, task.result);
      if (task.state === 'failed') return failed(s, task.error ?? { code: 'failed', message: '' });
      return advance(s, task.stage, task.percent);
    }
  }
}
