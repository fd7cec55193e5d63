import Box from '@mui/material/Box';
import Link from '@mui/material/Link';
import TextField from '@mui/material/TextField';
import { skipToken } from '@reduxjs/toolkit/query';
import { Link as RouterLink } from 'react-router';
import { useGetGalleryPageQuery, useGetTemplateQuery } from '../../api/emojis';
import type { Template } from '../../api/types';
import { ErrorAlert } from '../../components/ErrorAlert';
import { useI18n } from '../../i18n';
import { TemplateStrip } from '../templates/TemplateStrip';

export interface TemplatePickerProps {
  value: number | null;
  onChange: (id: number) => void;
  disabled?: boolean;
}

/** The chosen template (from the link that led here), changeable among the newest. */
export function TemplatePicker({ value, onChange, disabled }: TemplatePickerProps) {
  const { t } = useI18n();
  const { data: newest } = useGetGalleryPageQuery(1);
  const { data: chosen, error } = useGetTemplateQuery(value ?? skipToken);
  const options: Template[] = [...(chosen ? [chosen] : []), ...(newest?.items ?? []).filter((x) => x.id !== chosen?.id)];
  // A template that is gone (or not loaded yet) is not shown as chosen: a
  // native select would show its first option instead, and choosing that
  // one would then change nothing.
  const known = value !== null && options.some((o) => o.id === value);

  return (
    <Box>
      <TextField
        select
        fullWidth
        label={t('upload.template')}
        value={known ? value : ''}
        disabled={disabled}
        onChange={(e) => e.target.value && onChange(Number(e.target.value))}
        slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
        helperText={
          <>
            {t('upload.templateHelp')}{' '}
            <Link component={RouterLink} to="/">
              {t('nav.gallery')}
            </Link>
            {t('upload.templateHelpEnd')}
          </>
        }
        sx={{ maxWidth: 480, mb: 1 }}
      >
        {!known && <option value="">{t('upload.pickTemplate')}</option>}
        {options.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </TextField>
      {error && <ErrorAlert error={error} />}
      {chosen && <TemplateStrip template={chosen} size={32} />}
    </Box>
  );
}
