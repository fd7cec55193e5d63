import { useCallback } from 'react';
import { useI18n } from '../i18n';

type ItemType = 'page' | 'first' | 'last' | 'next' | 'previous' | 'start-ellipsis' | 'end-ellipsis';

/** Localized aria-labels for MUI Pagination's buttons. */
export function usePaginationLabels() {
  const { t } = useI18n();
  return useCallback(
    (type: ItemType | string, page: number | null, selected: boolean) => {
      switch (type) {
        case 'page':
          return selected ? t('pagination.current', { page: page ?? '' }) : t('pagination.page', { page: page ?? '' });
        case 'next':
          return t('pagination.next');
        case 'previous':
          return t('pagination.previous');
        case 'first':
          return t('pagination.first');
        case 'last':
          return t('pagination.last');
        default:
          return '';
      }
    },
    [t],
  );
}
