import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import { useI18n, type Lang } from '../i18n';
import { isLang } from '../i18n/lang';

const NAMES: Record<Lang, { short: string; full: string }> = {
  en: { short: 'EN', full: 'English' },
  ko: { short: '한', full: '한국어' },
};

/** EN | 한: each button names its language in that language. */
export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <ToggleButtonGroup
      exclusive
      size="small"
      value={lang}
      onChange={(_e, v: unknown) => isLang(v) && setLang(v)}
      aria-label={t('lang.label')}
      sx={{
        '& .MuiToggleButton-root': {
          color: 'primary.contrastText',
          borderColor: 'rgba(255,255,255,0.6)',
          px: 1.25,
          py: 0.25,
          minWidth: 40,
        },
        '& .MuiToggleButton-root.Mui-selected': {
          bgcolor: 'primary.contrastText',
          color: 'primary.main',
          '&:hover': { bgcolor: 'grey.100' },
        },
      }}
    >
      {(Object.keys(NAMES) as Lang[]).map((l) => (
        // Each its own tab stop: a pair of buttons gives no hint that
        // arrow keys move between them.
        <ToggleButton key={l} value={l} lang={l} aria-label={NAMES[l].full} tabIndex={0}>
          {NAMES[l].short}
        </ToggleButton>
      ))}
    </ToggleButtonGroup>
  );
}
