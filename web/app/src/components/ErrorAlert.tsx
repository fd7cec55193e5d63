import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import { useCallback } from 'react';
import { apiError, isNetworkError, type QueryError } from '../api/errors';
import { useI18n, type Lang, type MessageKey } from '../i18n';

/** "30 seconds", "15 minutes" (rounded up) in lang's words. */
function formatWait(lang: Lang, seconds: number): string {
  const [n, unit] = seconds < 60 ? [Math.max(1, seconds), 'second'] : [Math.ceil(seconds / 60), 'minute'];
  return new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: 'long' }).format(n);
}

const CODE_KEY: Partial<Record<string, MessageKey>> = {
  unauthorized: 'error.unauthorized',
  forbidden: 'error.forbidden',
  not_found: 'error.not_found',
  too_large: 'error.too_large',
  unsupported_media: 'error.unsupported_media',
  rate_limited: 'error.rate_limited',
  internal: 'error.internal',
  unavailable: 'error.unavailable',
};

/**
 * A sentence for a failed request. The server's messages are written for
 * people (and specific) but English: in English they are shown as they
 * are; in Korean a translation of the code is shown, with the server's
 * words kept for the codes whose detail matters (invalid, conflict),
 * unless the page knows better what a code means there (overrides).
 */
export function useErrorText(overrides?: Partial<Record<string, MessageKey>>): (err: QueryError) => string {
  const { lang, t } = useI18n();
  return useCallback(
    (err: QueryError) => {
      if (isNetworkError(err)) return t('error.network');
      const info = apiError(err);
      if (!info) return t('error.unknown');
      if (lang === 'en') return info.message;
      const override = overrides?.[info.code];
      if (override) return t(override);
      // The server's words say how long to wait; the translation says it too.
      if (info.code === 'rate_limited' && info.retry_after !== undefined) {
        return t('error.rate_limitedWait', { wait: formatWait(lang, info.retry_after) });
      }
      const key = CODE_KEY[info.code];
      if (key) return t(key);
      return `${t('error.invalid')} (${info.message})`;
    },
    [lang, t, overrides],
  );
}

export interface ErrorAlertProps {
  error: QueryError;
  /** Messages for codes that mean something particular on this page. */
  overrides?: Partial<Record<string, MessageKey>>;
  onRetry?: () => void;
}

export function ErrorAlert({ error, onRetry, overrides }: ErrorAlertProps) {
  const { t } = useI18n();
  const text = useErrorText(overrides);
  if (!error) return null;
  return (
    <Alert
      severity="error"
      role="alert"
      action={
        onRetry ? (
          <Button color="inherit" size="small" onClick={onRetry}>
            {t('common.retry')}
          </Button>
        ) : undefined
      }
    >
      {text(error)}
    </Alert>
  );
}
