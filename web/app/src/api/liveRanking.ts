import { parseServerMessage, sendMessage, socketUrl } from './socket';
import type { RankItem } from './types';

export interface LiveFeed {
  close(): void;
}

/**
 * Follows ranking.updated over an anonymous WebSocket (the ranking is
 * public), reconnecting with backoff; the server answers every subscription
 * with the current ranking, so nothing is missed across reconnects.
 */
export function followRanking(onRanking: (items: RankItem[]) => void, { minDelayMs = 1000, maxDelayMs = 30_000 } = {}): LiveFeed {
  let ws: WebSocket | null = null;
  let stopped = false;
  let delay = minDelayMs;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const reconnectLater = () => {
    if (stopped) return;
    timer = setTimeout(connect, delay);
    delay = Math.min(delay * 2, maxDelayMs);
  };

  function connect() {
    try {
      ws = new WebSocket(socketUrl());
    } catch {
      reconnectLater();
      return;
    }
    const sock = ws;
    sock.onopen = () => {
      delay = minDelayMs;
      sendMessage(sock, { type: 'subscribe', topic: 'ranking' });
    };
    sock.onmessage = (ev: MessageEvent) => {
      const msg = parseServerMessage(ev.data);
      if (msg?.type === 'ranking.updated' && Array.isArray(msg.ranking)) onRanking(msg.ranking);
    };
    sock.onclose = () => {
      if (ws === sock) ws = null;
      reconnectLater();
    };
  }

  connect();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      ws?.close();
      ws = null;
    },
  };
}
