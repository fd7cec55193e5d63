import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import { useId } from 'react';
import { useGetRankingQuery } from '../../api/emojis';
import { ErrorAlert } from '../../components/ErrorAlert';
import { Loading } from '../../components/Loading';
import { useI18n } from '../../i18n';
import { RankingChart } from './RankingChart';
import { RankingPodium } from './RankingPodium';

/** The most used templates of the last days, kept live over the WebSocket. */
export function RankingSection() {
  const { t } = useI18n();
  const headingId = useId();
  const { data, error, refetch } = useGetRankingQuery();
  return (
    <Paper component="section" aria-labelledby={headingId} variant="outlined" sx={{ p: { xs: 1.5, sm: 3 }, mb: 4 }}>
      <Typography variant="h5" component="h2" id={headingId}>
        {t('ranking.title')}
      </Typography>
      <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
        {t('ranking.window', { days: data?.window_days ?? 7 })}
      </Typography>
      {error ? (
        <ErrorAlert error={error} onRetry={refetch} />
      ) : !data ? (
        <Loading />
      ) : data.items.length === 0 ? (
        <Typography>{t('ranking.empty', { days: data.window_days })}</Typography>
      ) : (
        <>
          <RankingPodium items={data.items} />
          <RankingChart items={data.items} />
        </>
      )}
    </Paper>
  );
}
