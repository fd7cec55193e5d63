import Box from '@mui/material/Box';
import Pagination from '@mui/material/Pagination';
import Typography from '@mui/material/Typography';
import { useEffect, type ReactNode } from 'react';
import type { Page } from '../../api/types';
import { Loading } from '../../components/Loading';
import { usePaginationLabels } from '../../components/usePaginationLabels';

export interface PagedListProps {
  page: number;
  data: Page<unknown>;
  /** replace: the move is the list's own, not a step to go back to. */
  onPage: (page: number, replace?: boolean) => void;
  empty: string;
  children: ReactNode;
}

/** A grid of cards (as list items) with pagination below. */
export function PagedList({ page, data, onPage, empty, children }: PagedListProps) {
  const labels = usePaginationLabels();
  const pages = Math.max(1, Math.ceil(data.total / data.page_size));
  // Empty past the end while others have items (the last one of the last
  // page deleted, an old link): the last page that has items. data.page,
  // not page: the answer still shown while that page loads is this one.
  const pastEnd = data.items.length === 0 && data.total > 0 && data.page > pages;
  useEffect(() => {
    if (pastEnd) onPage(pages, true);
  }, [pastEnd, pages]); // onPage as it is then
  if (pastEnd) return <Loading />;
  if (data.items.length === 0) return <Typography sx={{ py: 2 }}>{empty}</Typography>;
  return (
    <>
      <Box
        component="ul"
        sx={{ listStyle: 'none', p: 0, m: 0, display: 'grid', gap: 2, gridTemplateColumns: 'repeat(auto-fill, minmax(min(100%, 240px), 1fr))' }}
      >
        {children}
      </Box>
      {pages > 1 && (
        <Pagination
          sx={{ mt: 3, display: 'flex', justifyContent: 'center' }}
          page={Math.min(page, pages)}
          count={pages}
          color="primary"
          getItemAriaLabel={labels}
          onChange={(_e, p) => onPage(p)}
        />
      )}
    </>
  );
}
