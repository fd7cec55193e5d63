/**
 * A place inside this site to go back to after logging in, or "/". Only
 * same-origin paths: "//evil.example" or "https://…" would make the
 * log-in page an open redirect.
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (next.startsWith('/login') || next.startsWith('/signup')) return '/';
  return next;
}

/** The log-in page, returning to `here` afterwards. */
export function loginPath(here: string): string {
  return `/login?${new URLSearchParams({ next: here }).toString()}`;
}

/** A positive page number from a query string value, else 1. */
export function pageParam(v: string | null): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : 1;
}
