import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Providers } from '../../App';
import { testStore } from '../../../test/utils';
import { ExpressionBars } from './ExpressionBars';

const probs = { angry: 0.0646, disgusted: 0.0016, fearful: 0.0437, happy: 0.5071, neutral: 0.3155, sad: 0.0658, surprised: 0.0016 };

function show(lang: 'en' | 'ko') {
  render(
    <Providers store={testStore({ lang })}>
      <ExpressionBars probs={probs} label="Face 1" />
    </Providers>,
  );
  return within(screen.getByRole('list', { name: 'Face 1' })).getAllByRole('listitem');
}

describe('ExpressionBars', () => {
  it('lists the seven classes in order with their probabilities, the most likely marked', () => {
    const rows = show('en');
    expect(rows.map((r) => r.getAttribute('data-expression'))).toEqual(['neutral', 'happy', 'sad', 'angry', 'surprised', 'fearful', 'disgusted']);
    expect(rows.map((r) => r.textContent)).toEqual([
      'Neutral31.6%',
      'Happy (most likely)50.7%',
      'Sad6.6%',
      'Angry6.5%',
      'Surprised0.2%',
      'Fearful4.4%',
      'Disgusted0.2%',
    ]);
  });

  it('draws each bar as long as its probability', () => {
    const rows = show('en');
    const fill = (row: HTMLElement) => getComputedStyle(row.querySelector('[aria-hidden] > div')!).width;
    expect(fill(rows[1]!)).toBe('50.71%');
    expect(fill(rows[0]!)).toBe('31.55%');
  });

  it('speaks Korean', () => {
    const rows = show('ko');
    expect(rows[1]).toHaveTextContent('기쁨 (가장 높음)50.7%');
    expect(rows[6]).toHaveTextContent('혐오');
  });
});
