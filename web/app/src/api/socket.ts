import type { ClientMessage, ServerMessage, TaskMessage } from './types';

/** Close code the server uses when the token on the socket runs out. */
export const CLOSE_TOKEN_EXPIRED = 4001;

/** ws(s)://this-host/api/v1/ws, with the token when logged in (browsers cannot set headers here). */
export function socketUrl(token?: string | null, loc: Pick<Location, 'protocol' | 'host'> = window.location): string {
  const url = new URL('/api/v1/ws', `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}`);
  if (token) url.searchParams.set('token', token);
  return url.toString();
}

export function sendMessage(ws: WebSocket, msg: ClientMessage): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

/** A server message, or null for anything we do not understand. */
export function parseServerMessage(data: unknown): ServerMessage | null {
  if (typeof data !== 'string') return null;
  try {
    const msg: unknown = JSON.parse(data);
    if (typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string') {
      return msg as ServerMessage;
    }
  } catch {
    // not JSON
  }
  return null;
}

export function isTaskMessage(msg: ServerMessage): msg is TaskMessage {
  return msg.type === 'task.progress' || msg.type === 'task.done' || msg.type === 'task.failed';
}
