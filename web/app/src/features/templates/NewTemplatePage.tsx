import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useRef, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useCreateTemplateMutation } from '../../api/emojis';
import { isUnauthorized } from '../../api/errors';
import type { Expression } from '../../api/types';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageTitle } from '../../components/PageTitle';
import { useI18n, type KeyedMessage } from '../../i18n';
import { EXPRESSIONS } from '../../lib/expressions';
import { useMountedRef } from '../../lib/hooks';
import { useWindowDropGuard } from '../../lib/useFileDrop';
import { decodes, isImageType, isTemplateName, NAME_MAX, NAME_MAX_CODE_POINTS, TEMPLATE_IMAGE_MAX_BYTES } from '../../lib/validation';
import { ImageSlot } from './ImageSlot';

type Slots = Partial<Record<Expression, File>>;
type SlotErrors = Partial<Record<Expression, KeyedMessage>>;

export default function NewTemplatePage() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [files, setFiles] = useState<Slots>({});
  const [slotErrors, setSlotErrors] = useState<SlotErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const nameField = useRef<HTMLInputElement>(null);
  const chooseButtons = useRef<Partial<Record<Expression, HTMLButtonElement | null>>>({});
  const [create, { isLoading, error }] = useCreateTemplateMutation();
  const mounted = useMountedRef();
  // Between the slots (and on this page anywhere else) a dropped file must
  // not replace the page and the images chosen so far.
  useWindowDropGuard();

  // Each slot's latest choice wins, even if an earlier one's check ends later.
  const picks = useRef<Partial<Record<Expression, number>>>({});
  const pick = async (e: Expression, f: File) => {
    const n = (picks.current[e] ?? 0) + 1;
    picks.current[e] = n;
    const problem: KeyedMessage | null = !isImageType(f.type)
      ? { key: 'newTemplate.badType' }
      : f.size > TEMPLATE_IMAGE_MAX_BYTES
        ? { key: 'newTemplate.tooBig', vars: { mb: TEMPLATE_IMAGE_MAX_BYTES >> 20 } }
        : !(await decodes(f))
          ? { key: 'newTemplate.notImage' }
          : null;
    if (picks.current[e] !== n) return;
    setSlotErrors((s) => ({ ...s, [e]: problem ?? undefined }));
    if (!problem) setFiles((s) => ({ ...s, [e]: f }));
  };
  const clear = (e: Expression) => {
    picks.current[e] = (picks.current[e] ?? 0) + 1; // a check still running must not bring it back
    setFiles(({ [e]: _gone, ...rest }) => rest);
  };

  const nameOk = isTemplateName(name);
  const missing = EXPRESSIONS.filter((e) => !files[e]);

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setSubmitted(true);
    // Focus goes to the first thing to fix; its message is read with it
    // (seven alerts at once would be read as one long noise).
    if (!nameOk) return nameField.current?.focus();
    const firstMissing = missing[0];
    if (firstMissing) return chooseButtons.current[firstMissing]?.focus();
    const body = new FormData();
    body.append('name', name.trim());
    for (const e of EXPRESSIONS) body.append(e, files[e] as File);
    const res = await create(body);
    // Not if the person went elsewhere while it was sent.
    if ('data' in res && res.data && mounted.current) navigate(`/templates/${res.data.id}`);
  };

  const shownErrors: SlotErrors = { ...slotErrors };
  if (submitted) for (const e of missing) shownErrors[e] ??= { key: 'newTemplate.missing' };
  const shown = (m: KeyedMessage | undefined) => (m ? t(m.key, m.vars) : null);

  return (
    <Box component="form" noValidate onSubmit={submit}>
      <PageTitle title={t('newTemplate.title')}>{t('newTemplate.title')}</PageTitle>
      <Typography sx={{ mb: 2 }}>{t('newTemplate.intro')}</Typography>
      <TextField
        label={t('newTemplate.name')}
        value={name}
        onChange={(e) => setName(e.target.value)}
        required
        fullWidth
        inputRef={nameField}
        error={submitted && !nameOk}
        helperText={submitted && !nameOk ? t('newTemplate.nameRule', { max: NAME_MAX }) : t('newTemplate.nameHelp', { max: NAME_MAX })}
        slotProps={{ htmlInput: { maxLength: NAME_MAX_CODE_POINTS * 2 } }} // UTF-16 units: the rule itself is checked above
        sx={{ mb: 3, maxWidth: 480 }}
      />
      <Box sx={{ display: 'grid', gap: 2, gridTemplateColumns: 'repeat(auto-fill, minmax(150px, 1fr))', mb: 3 }}>
        {EXPRESSIONS.map((e) => (
          <ImageSlot
            key={e}
            expression={e}
            file={files[e] ?? null}
            error={shown(shownErrors[e])}
            errorIsNews={!!slotErrors[e]}
            chooseRef={(el) => {
              chooseButtons.current[e] = el;
            }}
            onPick={(f) => pick(e, f)}
            onClear={() => clear(e)}
          />
        ))}
      </Box>
      {/* A refused session is the log-in dialog's to tell. */}
      {error && !isUnauthorized(error) && (
        <Box sx={{ mb: 2 }}>
          <ErrorAlert error={error} />
        </Box>
      )}
      <Button type="submit" variant="contained" size="large" disabled={isLoading}>
        {isLoading ? t('newTemplate.publishing') : t('newTemplate.publish')}
      </Button>
      <Typography variant="body2" color="text.secondary" sx={{ mt: 1 }} aria-live="polite">
        {missing.length > 0 ? t('newTemplate.remaining', { count: missing.length }) : t('newTemplate.ready')}
      </Typography>
    </Box>
  );
}
