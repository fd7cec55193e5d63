import Box from '@mui/material/Box';
import Paper from '@mui/material/Paper';
import type { FormEvent, ReactNode } from 'react';
import { PageTitle } from '../../components/PageTitle';

/** The narrow card both log-in and sign-up use. */
export function AuthForm({ title, onSubmit, children }: { title: string; onSubmit: (e: FormEvent) => void; children: ReactNode }) {
  return (
    <Paper variant="outlined" sx={{ maxWidth: 440, mx: 'auto', p: { xs: 2, sm: 4 } }}>
      <PageTitle title={title}>{title}</PageTitle>
      <Box component="form" noValidate onSubmit={onSubmit} sx={{ display: 'grid', gap: 2 }}>
        {children}
      </Box>
    </Paper>
  );
}
