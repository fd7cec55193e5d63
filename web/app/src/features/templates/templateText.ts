import type { Template } from '../../api/types';
import type { I18n } from '../../i18n';

/** "Built in" or "by alias". */
export function creatorText(t: I18n['t'], tpl: Pick<Template, 'builtin' | 'creator_alias'>): string {
  return tpl.builtin || !tpl.creator_alias ? t('template.builtin') : t('template.by', { alias: tpl.creator_alias });
}
