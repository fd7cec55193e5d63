import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Stack from '@mui/material/Stack';
import { useEffect, useRef, useState } from 'react';
import { LiveEmojiOverlay } from './LiveEmojiOverlay';
import { CameraIcon } from '../../components/icons';
import { useI18n, type MessageKey } from '../../i18n';
import { cameraProblem, snapshot, stopStream } from '../../lib/webcam';

const PROBLEM_KEY: Record<ReturnType<typeof cameraProblem> | 'unsupported', MessageKey> = {
  denied: 'webcam.denied',
  none: 'webcam.none',
  busy: 'webcam.busy',
  failed: 'webcam.failed',
  unsupported: 'webcam.unsupported',
};

export interface WebcamCaptureProps {
  onCapture: (file: File) => void;
  onCancel: () => void;
  /** The template's emoji, drawn live on the faces in view. */
  emojiUrl?: string;
}

/** A live camera view and a capture button; the camera is on only while this is shown. */
export function WebcamCapture({ onCapture, onCancel, emojiUrl }: WebcamCaptureProps) {
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [ready, setReady] = useState(false);
  const [problem, setProblem] = useState<keyof typeof PROBLEM_KEY | null>(null);

  useEffect(() => {
    if (!navigator.mediaDevices?.getUserMedia) {
      setProblem('unsupported');
      return;
    }
    let stream: MediaStream | null = null;
    let gone = false;
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false })
      .then((s) => {
        if (gone) return stopStream(s);
        stream = s;
        const v = video.current;
        if (v) {
          v.srcObject = s;
          v.play().catch(() => undefined); // autoplay also starts it
        }
      })
      .catch((err: unknown) => !gone && setProblem(cameraProblem(err)));
    return () => {
      gone = true;
      if (stream) stopStream(stream);
    };
  }, []);

  const capture = async () => {
    if (!video.current) return;
    try {
      onCapture(await snapshot(video.current));
    } catch {
      setProblem('failed');
    }
  };

  return (
    // Escape closes the camera, as it closes a dialog.
    <Box
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onCancel();
        }
      }}
    >
      {problem ? (
        <Alert severity="warning" role="alert" sx={{ mb: 2 }}>
          {t(PROBLEM_KEY[problem])}
        </Alert>
      ) : (
        <Box sx={{ position: 'relative', mb: 2 }}>
        <Box
          component="video"
          ref={video}
          autoPlay
          playsInline
          muted
          aria-label={t('webcam.preview')}
          onLoadedMetadata={() => setReady(true)}
          // Mirrored like a mirror; the snapshot is not.
          sx={{ width: '100%', maxHeight: 420, bgcolor: '#000', borderRadius: 2, transform: 'scaleX(-1)', display: 'block' }}
        />
        {ready && <LiveEmojiOverlay video={video} emojiUrl={emojiUrl} />}
        </Box>
      )}
      <Stack direction="row" spacing={1}>
        {!problem && (
          <Button variant="contained" startIcon={<CameraIcon />} onClick={capture} disabled={!ready}>
            {t('webcam.capture')}
          </Button>
        )}
        <Button onClick={onCancel}>{t('common.cancel')}</Button>
      </Stack>
    </Box>
  );
}
