import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Pagination from '@mui/material/Pagination';
import Typography from '@mui/material/Typography';
import { useEffect, useId, useState } from 'react';
import { useLocation, useNavigate, useSearchParams } from 'react-router';
import { useGetGalleryPageQuery } from '../../api/emojis';
import { ErrorAlert } from '../../components/ErrorAlert';
import { Loading } from '../../components/Loading';
import { PageTitle } from '../../components/PageTitle';
import { usePaginationLabels } from '../../components/usePaginationLabels';
import { useI18n } from '../../i18n';
import { pageParam } from '../../lib/navigation';
import { RankingSection } from './RankingSection';
import { TemplateCard } from './TemplateCard';

/** What another page hands over when it sends the person here. */
export interface HomeState {
  /** The account was deleted (and its session ended): say so. */
  accountDeleted?: boolean;
}

/**
 * The notice another page left in the location's state, shown while this
 * page stays; the state is cleared at once, so that going back to this
 * entry or reloading does not show it again.
 */
function useHomeNotice(): [boolean, () => void] {
  const location = useLocation();
  const navigate = useNavigate();
  const handed = (location.state as HomeState | null)?.accountDeleted === true;
  const [shown, setShown] = useState(handed);
  useEffect(() => {
    if (!handed) return;
    setShown(true);
    navigate({ pathname: location.pathname, search: location.search, hash: location.hash }, { replace: true, state: null });
  }, [handed]); // the location as it is then
  return [shown, () => setShown(false)];
}

export default function GalleryPage() {
  const { t } = useI18n();
  const [accountDeleted, dismissNotice] = useHomeNotice();
  const headingId = useId();
  const [params, setParams] = useSearchParams();
  const page = pageParam(params.get('page'));
  const { data, error, isFetching, refetch } = useGetGalleryPageQuery(page);
  const pages = data ? Math.max(1, Math.ceil(data.total / data.page_size)) : 1;
  const ariaLabels = usePaginationLabels();

  return (
    <>
      <PageTitle title={t('gallery.title')}>{t('gallery.heading')}</PageTitle>
      {accountDeleted && (
        <Alert severity="success" role="status" onClose={dismissNotice} closeText={t('common.close')} sx={{ mb: 2 }}>
          {t('gallery.accountDeleted')}
        </Alert>
      )}
      <Typography sx={{ mb: 3 }}>{t('gallery.intro')}</Typography>
      <RankingSection />
      <Box component="section" aria-labelledby={headingId} aria-busy={isFetching}>
        <Typography variant="h5" component="h2" id={headingId} sx={{ mb: 2 }}>
          {t('gallery.templates')}
        </Typography>
        {error ? (
          <ErrorAlert error={error} onRetry={refetch} />
        ) : !data ? (
          <Loading />
        ) : data.items.length === 0 ? (
          <Typography>{t('gallery.empty')}</Typography>
        ) : (
          <Box sx={{ display: 'grid', gap: 2, gridTemplateColumns: 'repeat(auto-fill, minmax(min(100%, 280px), 1fr))' }}>
            {data.items.map((tpl) => (
              <TemplateCard key={tpl.id} template={tpl} />
            ))}
          </Box>
        )}
        {pages > 1 && (
          <Pagination
            sx={{ mt: 3, display: 'flex', justifyContent: 'center' }}
            page={Math.min(page, pages)}
            count={pages}
            color="primary"
            getItemAriaLabel={ariaLabels}
            onChange={(_e, p) => setParams(p === 1 ? {} : { page: String(p) })}
          />
        )}
      </Box>
    </>
  );
}
