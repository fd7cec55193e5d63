import Box from '@mui/material/Box';
import type { Template } from '../../api/types';
import { useI18n } from '../../i18n';
import { EXPRESSIONS, EXPRESSION_KEY } from '../../lib/expressions';

export interface TemplateStripProps {
  template: Pick<Template, 'images'>;
  size?: number;
  /** In a card that already names the template, the images add nothing for screen readers. */
  decorative?: boolean;
}

/** The seven images of a template, in class order. */
export function TemplateStrip({ template, size = 36, decorative = false }: TemplateStripProps) {
  const { t } = useI18n();
  return (
    <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 0.5 }} aria-hidden={decorative || undefined}>
      {EXPRESSIONS.map((e) => (
        <img
          key={e}
          src={template.images[e]}
          alt={decorative ? '' : t(EXPRESSION_KEY[e])}
          title={t(EXPRESSION_KEY[e])}
          width={size}
          height={size}
          loading="lazy"
          decoding="async"
        />
      ))}
    </Box>
  );
}
