import type { SerializedError } from '@reduxjs/toolkit';
import type { FetchBaseQueryError } from '@reduxjs/toolkit/query';
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
