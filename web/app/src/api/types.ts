// Types of the IGE MOJI API v1, as the Go server writes them (see the
// repository README, "API (v1)").

/** The seven expression classes, in the order used everywhere. */
export const EXPRESSIONS = ['neutral', 'happy', 'sad', 'angry', 'surprised', 'fearful', 'disgusted'] as const;
export type Expression = (typeof EXPRESSIONS)[number];

export interface ApiErrorInfo {
  code: string;
  message: string;
  /** Not the server's JSON: the seconds of a 429's Retry-After header, added by the base query. */
  retry_after?: number;
}

/** Every error response: `{"error":{"code","message"}}`. */
export interface ApiErrorBody {
  error: ApiErrorInfo;
}

export interface Page<T> {
  items: T[];
  page: number;
  page_size: number;
  total: number;
}

export interface User {
  id: number;
  email: string;
  alias: string;
  created_at: string;
}

export interface LoginRequest {
  email: string;
  password: string;
}

export interface SignupRequest extends LoginRequest {
  alias: string;
}

export interface LoginResponse {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds. */
  expires_in: number;
  user: User;
}

export type TakenCase = 'email' | 'alias';

export interface Template {
  id: number;
  name: string;
  /** Empty for built-in templates. */
  creator_alias: string;
  builtin: boolean;
  created_at: string;
  images: Record<Expression, string>;
}

export type TaskState = 'queued' | 'running' | 'done' | 'failed';
export type Stage = 'queued' | 'detecting' | 'reading' | 'compositing' | 'done';
export const STAGES: readonly Stage[] = ['queued', 'detecting', 'reading', 'compositing', 'done'];

export interface Face {
  /** x, y, width, height in the result image's pixels. */
  box: [number, number, number, number];
  expression: Expression;
  probs: Record<Expression, number>;
}

export interface TaskResult {
  /** Signed, private, valid for an hour or two. */
  image_url: string;
  width: number;
  height: number;
  faces: Face[];
}

export interface Task {
  task_id: string;
  template_id: number;
  state: TaskState;
  stage: Stage;
  percent: number;
  created_at: string;
  updated_at: string;
  result: TaskResult | null;
  error: ApiErrorInfo | null;
  /** Present while the result is shared. */
  share_url?: string;
}

export interface RankItem {
  rank: number;
  uses: number;
  template: Template;
}

export interface Ranking {
  items: RankItem[];
  window_days: number;
}

export interface ShareResponse {
  share_url: string;
}

// WebSocket messages (JSON text).

export type ClientMessage =
  | { type: 'subscribe' | 'unsubscribe'; topic: 'task'; task_id: string }
  | { type: 'subscribe' | 'unsubscribe'; topic: 'ranking' };

export interface TaskProgressMessage {
  type: 'task.progress';
  task_id: string;
  stage: Stage;
  percent: number;
}
export interface TaskDoneMessage {
  type: 'task.done';
  task_id: string;
  result: TaskResult;
}
export interface TaskFailedMessage {
  type: 'task.failed';
  task_id: string;
  error: ApiErrorInfo;
}
export interface RankingUpdatedMessage {
  type: 'ranking.updated';
  ranking: RankItem[];
}
export interface SocketErrorMessage {
  type: 'error';
  error: ApiErrorInfo;
  task_id?: string;
}

export type TaskMessage = TaskProgressMessage | TaskDoneMessage | TaskFailedMessage;
export type ServerMessage = TaskMessage | RankingUpdatedMessage | SocketErrorMessage;
