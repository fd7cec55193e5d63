import { EXPRESSIONS, type Expression } from '../api/types';
import type { MessageKey } from '../i18n';

export { EXPRESSIONS, type Expression };

export const EXPRESSION_KEY: Record<Expression, MessageKey> = {
  neutral: 'expr.neutral',
  happy: 'expr.happy',
  sad: 'expr.sad',
  angry: 'expr.angry',
  surprised: 'expr.surprised',
  fearful: 'expr.fearful',
  disgusted: 'expr.disgusted',
};

/** Bar colours; each has at least 3:1 contrast on white (the text beside it carries the value). */
export const EXPRESSION_COLOR: Record<Expression, string> = {
  neutral: '#5f6368',
  happy: '#b06000',
  sad: '#1a5fb4',
  angry: '#c5221f',
  surprised: '#8e24aa',
  fearful: '#00796b',
  disgusted: '#558b2f',
};

/** The most probable class (first in class order on ties). */
export function topExpression(probs: Partial<Record<Expression, number>>): Expression {
  let best: Expression = 'neutral';
  let bestP = -1;
  for (const e of EXPRESSIONS) {
    const p = probs[e] ?? 0;
    if (p > bestP) {
      best = e;
      bestP = p;
    }
  }
  return best;
}
