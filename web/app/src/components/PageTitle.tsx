import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import { useDocumentTitle } from '../lib/hooks';

/** The page's one h1, also the document title. */
export function PageTitle({ children, title }: { children: ReactNode; title: string }) {
  useDocumentTitle(title);
  return (
    <Typography variant="h4" component="h1" sx={{ mb: 2, fontWeight: 700, overflowWrap: 'anywhere' }}>
      {children}
    </Typography>
  );
}
