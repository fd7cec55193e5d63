import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useRef } from 'react';
import { CameraIcon, UploadIcon } from '../../components/icons';
import { useI18n } from '../../i18n';
import { useFileDrop } from '../../lib/useFileDrop';
import { IMAGE_TYPES } from '../../lib/validation';

export interface PhotoPickerProps {
  onFile: (file: File) => void;
  onCamera: () => void;
  disabled?: boolean;
}

/** Drop a photo here, choose one, or use the camera. */
export function PhotoPicker({ onFile, onCamera, disabled }: PhotoPickerProps) {
  const { t } = useI18n();
  const input = useRef<HTMLInputElement>(null);
  const { dragging, handlers } = useFileDrop(onFile);
  return (
    <Box
      {...(disabled ? {} : handlers)}
      data-testid="dropzone"
      sx={{
        border: 2,
        borderStyle: 'dashed',
        borderColor: dragging ? 'primary.main' : 'grey.500',
        bgcolor: dragging ? 'rgba(74,47,181,0.06)' : 'background.paper',
        borderRadius: 2,
        p: { xs: 2, sm: 4 },
        textAlign: 'center',
      }}
    >
      <Typography sx={{ mb: 2 }}>{t('upload.drop')}</Typography>
      <input
        ref={input}
        type="file"
        hidden
        accept={IMAGE_TYPES.join(',')}
        aria-label={t('upload.choose')}
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) onFile(f);
          e.target.value = '';
        }}
      />
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={1} sx={{ justifyContent: 'center' }}>
        <Button variant="contained" startIcon={<UploadIcon />} onClick={() => input.current?.click()} disabled={disabled}>
          {t('upload.choose')}
        </Button>
        <Button variant="outlined" startIcon={<CameraIcon />} onClick={onCamera} disabled={disabled}>
          {t('upload.camera')}
        </Button>
      </Stack>
      <Typography variant="caption" color="text.secondary" sx={{ display: 'block', mt: 2 }}>
        {t('upload.rules')}
      </Typography>
    </Box>
  );
}
