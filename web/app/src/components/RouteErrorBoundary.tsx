import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import { Component, type ReactNode } from 'react';
import { useI18n } from '../i18n';

function Fallback() {
  const { t } = useI18n();
  return (
    <Alert
      severity="error"
      action={
        <Button color="inherit" size="small" onClick={() => window.location.reload()}>
          {t('common.reload')}
        </Button>
      }
    >
      {t('error.page')}
    </Alert>
  );
}

/**
 * Catches a page that throws, or whose code fails to load (a lazy chunk
 * from a previous deployment), and offers a reload instead of a blank page.
 */
export class RouteErrorBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  componentDidCatch(error: unknown) {
    console.error(error);
  }

  render() {
    return this.state.failed ? <Fallback /> : this.props.children;
  }
}
