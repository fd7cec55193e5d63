import { useEffect, useRef, useState } from 'react';

/** value, once it has stayed the same for delayMs. */
export function useDebouncedValue<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(id);
  }, [value, delayMs]);
  return settled;
}

/** An object URL for blob while it is shown; revoked when it changes or the component leaves. */
export function useObjectUrl(blob: Blob | null | undefined): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!blob) {
      setUrl(null);
      return;
    }
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return url;
}

/** Sets document.title to "page · IGE MOJI". */
export function useDocumentTitle(title: string | null | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · IGE MOJI` : 'IGE MOJI';
  }, [title]);
}

/**
 * Whether the component is still on the page. An answer that arrives after
 * the person has gone elsewhere must not navigate them back.
 */
export function useMountedRef(): { readonly current: boolean } {
  const mounted = useRef(false);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  return mounted;
}

/** The least time between two reads for fresh image links, per image. */
export const IMAGE_REFRESH_MS = 30_000;

/**
 * An image's onError that reads again what holds its link: signed links
 * run out after an hour or two, and the new answer has a fresh one. At
 * most once per minGapMs, so a link that keeps failing does not loop.
 */
export function useRefreshOnError(refresh: () => void, minGapMs = IMAGE_REFRESH_MS): () => void {
  const last = useRef(-Infinity);
  return () => {
    const now = Date.now();
    if (now - last.current < minGapMs) return;
    last.current = now;
    refresh();
  };
}
