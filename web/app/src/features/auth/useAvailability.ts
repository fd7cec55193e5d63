import { skipToken } from '@reduxjs/toolkit/query';
import type { TakenCase } from '../../api/types';
import { useCheckTakenQuery } from '../../api/users';
import { useDebouncedValue } from '../../lib/hooks';

export type Availability = 'idle' | 'checking' | 'available' | 'taken' | 'unknown';

export const CHECK_DELAY_MS = 400;

/**
 * "Is this taken?" for an email or alias, asked once typing pauses and
 * only for well-formed values (the server allows 120 look-ups a minute).
 */
export function useAvailability(kind: TakenCase, raw: string, wellFormed: (v: string) => boolean, delayMs = CHECK_DELAY_MS): Availability {
  const value = raw.trim();
  const settled = useDebouncedValue(value, delayMs);
  const ask = value !== '' && settled === value && wellFormed(value);
  const { currentData, isError } = useCheckTakenQuery(ask ? { case: kind, value } : skipToken);
  if (!value || !wellFormed(value)) return 'idle';
  if (!ask) return 'checking';
  if (isError) return 'unknown';
  if (!currentData) return 'checking';
  return currentData.taken ? 'taken' : 'available';
}
