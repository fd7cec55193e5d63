import { useEffect, useReducer, useRef } from 'react';
import { api, MINE } from '../../api/base';
import { facesApi, useGetTaskQuery } from '../../api/faces';
import type { QueryError } from '../../api/errors';
import { CLOSE_TOKEN_EXPIRED, isTaskMessage, parseServerMessage, sendMessage, socketUrl } from '../../api/socket';
import { selectToken, sessionExpired } from '../../store/authSlice';
import { useAppDispatch, useAppSelector } from '../../store/hooks';
import { initialProgress, isFinished, progressReducer, type ProgressState } from './taskProgress';

export const DEFAULT_POLL_MS = 1500;
/** While the socket is open: a slow read in case an event was lost on the way (the bus is best effort). */
export const DEFAULT_CHECK_MS = 15_000;

export interface TaskProgress extends ProgressState {
  finished: boolean;
  /** Why the last read of the task failed, until one succeeds. */
  readError: QueryError;
}

/**
 * Follows a task to its end. It listens on the WebSocket (with the token
 * when logged in, so the person's own tasks are allowed, and subscribing
 * to the task either way) and reads the task once over HTTP, since it may
 * have finished before the subscription. If the socket cannot open, or
 * closes before the end, it polls the task instead, on its own; while it is
 * open, it still reads the task now and then, in case an event was lost.
 *
 * Give each task its own component (key={taskId}): the state starts afresh.
 */
export function useTaskProgress(
  taskId: string,
  { pollMs = DEFAULT_POLL_MS, checkMs = DEFAULT_CHECK_MS }: { pollMs?: number; checkMs?: number } = {},
): TaskProgress {
  const [state, dispatch] = useReducer(progressReducer, initialProgress);
  const finished = isFinished(state);
  const appDispatch = useAppDispatch();
  // The token when we started: a later log-in or log-out must not reopen the socket.
  const token = useRef(useAppSelector(selectToken)).current;
  const socket = useRef<WebSocket | null>(null);

  useEffect(() => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(socketUrl(token));
    } catch {
      dispatch({ type: 'socket/lost' });
      return;
    }
    socket.current = ws;
    let closing = false; // by us
    ws.onopen = () => {
      sendMessage(ws, { type: 'subscribe', topic: 'task', task_id: taskId });
      dispatch({ type: 'socket/opened' });
    };
    ws.onmessage = (ev: MessageEvent) => {
      const msg = parseServerMessage(ev.data);
      if (!msg) return;
      if (isTaskMessage(msg) && msg.task_id === taskId) dispatch({ type: 'task/message', message: msg });
      // The server could not follow this task for us (e.g. too many
      // subscriptions): the polling path still can.
      else if (msg.type === 'error' && msg.task_id === taskId) dispatch({ type: 'socket/lost' });
    };
    ws.onerror = () => dispatch({ type: 'socket/lost' });
    ws.onclose = (ev: CloseEvent) => {
      if (closing) return;
      if (ev.code === CLOSE_TOKEN_EXPIRED) appDispatch(sessionExpired());
      dispatch({ type: 'socket/lost' });
    };
    return () => {
      closing = true;
      socket.current = null;
      ws.close();
    };
  }, [taskId, token, appDispatch]);

  // The HTTP side: one read at once, then every pollMs while polling, every
  // checkMs while the socket is open.
  const polling = state.transport === 'polling' && !finished;
  const interval = finished ? 0 : polling ? pollMs : checkMs;
  const { data: task, isError, error: readError, refetch } = useGetTaskQuery(taskId, { pollingInterval: interval, skipPollingIfUnfocused: false });
  useEffect(() => {
    if (task) dispatch({ type: 'task/snapshot', task });
  }, [task]);

  // Until the first read is back, the end is not handed over: that read,
  // answered before the end but arriving after it, would put the task back
  // in the cache as running, and the result page would show a new bar.
  const firstReadBack = task !== undefined || isError;
  const handedOver = useRef(false);
  useEffect(() => {
    if (!finished) return;
    socket.current?.close();
    if (!firstReadBack || handedOver.current) return;
    handedOver.current = true;
    // The socket told us first: write the end into the cached task at once,
    // so that the result page, which reads the cache, never shows the task
    // as still running; then read it fresh (and my results).
    if (task && !isFinished(task)) {
      appDispatch(
        facesApi.util.updateQueryData('getTask', taskId, (draft) => {
          draft.state = state.state;
          draft.stage = state.state === 'done' ? 'done' : draft.stage;
          draft.percent = state.state === 'done' ? 100 : draft.percent;
          draft.result = state.result;
          draft.error = state.error;
        }),
      );
      refetch();
    }
    appDispatch(api.util.invalidateTags([{ type: 'Task', id: MINE }]));
  }, [finished, firstReadBack]); // once, when it has finished and the first read is back (task, state and refetch as they are then)

  return { ...state, finished: finished && firstReadBack, readError };
}
