import Box from '@mui/material/Box';
import Pagination from '@mui/material/Pagination';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import type { Page } from '../../api/types';
import { usePaginationLabels } from '../../components/usePaginationLabels';

export interface PagedListProps {
  page: number;
  data: Page<unknown>;
  onPage: (page: number) => void;
  empty: string;
  children: ReactNode;
}

/** A grid of cards (as list items) with pagination below. */
export function PagedList({ page, data, onPage, empty, children }: PagedListProps) {
  const labels = usePaginationLabels();
  const pages = Math.max(1, Math.ceil(data.total / data.page_size));
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
