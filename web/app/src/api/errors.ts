import type { SerializedError } from '@reduxjs/toolkit';
import type { FetchBaseQueryError, FetchBaseQueryMeta } from '@reduxjs/toolkit/query';
import type { ApiErrorBody, ApiErrorInfo } from './types';

export function isApiErrorBody(v: unknown): v is ApiErrorBody {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = (v as { error: unknown }).error;
  return typeof e === 'object' && e !== null && typeof (e as ApiErrorInfo).code === 'string';
}

export type QueryError = FetchBaseQueryError | SerializedError | undefined | null;

/** The HTTP status of a failed request, if it got an answer. */
export function errorStatus(err: QueryError): number | null {
  return err && 'status' in err && typeof err.status === 'number' ? err.status : null;
}

/** The API's error ({code, message}) inside a failed request, if any. */
export function apiError(err: QueryError): ApiErrorInfo | null {
  if (!err || !('status' in err)) return null;
  return isApiErrorBody(err.data) ? err.data.error : null;
}

/** No answer at all: offline, DNS, server down. */
export function isNetworkError(err: QueryError): boolean {
  return !!err && 'status' in err && (err.status === 'FETCH_ERROR' || err.status === 'TIMEOUT_ERROR');
}

export function isUnauthorized(err: QueryError): boolean {
  return errorStatus(err) === 401 && apiError(err)?.code === 'unauthorized';
}

/** Seconds from a Retry-After header (a number of seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * A 429 with the wait its Retry-After header asks for, kept beside the
 * error's code (retry_after), since only the response carries the header.
 */
export function withRetryAfter<R extends { error?: FetchBaseQueryError; meta?: FetchBaseQueryMeta }>(result: R): R {
  const err = result.error;
  if (!err || err.status !== 429 || !isApiErrorBody(err.data)) return result;
  const secs = parseRetryAfter(result.meta?.response?.headers.get('Retry-After'));
  if (secs === null) return result;
  return { ...result, error: { ...err, data: { error: { ...err.data.error, retry_after: secs } } } };
}
