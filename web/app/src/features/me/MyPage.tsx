import Box from '@mui/material/Box';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import { useRef } from 'react';
import { useSearchParams } from 'react-router';
import { PageTitle } from '../../components/PageTitle';
import { useI18n } from '../../i18n';
import { pageParam } from '../../lib/navigation';
import { selectUser } from '../../store/authSlice';
import { useAppSelector } from '../../store/hooks';
import { ChangePasswordSection } from './ChangePassword';
import { DeleteAccountSection } from './DeleteAccount';
import { MyResults } from './MyResults';
import { MyTemplates } from './MyTemplates';

type TabName = 'results' | 'templates';

export default function MyPage() {
  const { t } = useI18n();
  const user = useAppSelector(selectUser);
  const [params, setParams] = useSearchParams();
  const tab: TabName = params.get('tab') === 'templates' ? 'templates' : 'results';
  const page = pageParam(params.get('page'));
  const go = (next: TabName, p = 1, replace = false) => setParams(p === 1 ? { tab: next } : { tab: next, page: String(p) }, { replace });
  // Focus goes here when a deletion leaves the page without a card.
  const panel = useRef<HTMLDivElement>(null);

  return (
    <>
      <PageTitle title={t('me.title')}>{user ? t('me.heading', { alias: user.alias }) : t('me.title')}</PageTitle>
      <Box sx={{ borderBottom: 1, borderColor: 'divider', mb: 2 }}>
        <Tabs value={tab} onChange={(_e, v: TabName) => go(v)} aria-label={t('me.tabs')} variant="fullWidth">
          <Tab value="results" label={t('me.results')} id="tab-results" aria-controls="panel-results" />
          <Tab value="templates" label={t('me.templates')} id="tab-templates" aria-controls="panel-templates" />
        </Tabs>
      </Box>
      <Box role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} ref={panel} tabIndex={-1}>
        {tab === 'results' ? (
          <MyResults page={page} onPage={(p, replace) => go('results', p, replace)} panel={panel} />
        ) : (
          <MyTemplates page={page} onPage={(p, replace) => go('templates', p, replace)} panel={panel} />
        )}
      </Box>
      <ChangePasswordSection />
      <DeleteAccountSection />
    </>
  );
}
