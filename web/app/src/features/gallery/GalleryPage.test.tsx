import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { AppRoutes } from '../../App';
import type { RankItem } from '../../api/types';
import { FakeWebSocket } from '../../../test/fakeWebSocket';
import { fetchedUrls, json, mockFetch, renderApp, template } from '../../../test/utils';

const page1 = [template(14, 'Cats 🐱'), template(13, 'Dogs'), template(2, 'Noto Color', { builtin: true, creator_alias: '' })];
const ranking: RankItem[] = [
  { rank: 1, uses: 9, template: page1[1]! },
  { rank: 2, uses: 4, template: page1[0]! },
  { rank: 3, uses: 1, template: page1[2]! },
  { rank: 4, uses: 1, template: template(7, 'Seventh') },
];

function api() {
  return mockFetch((url) => {
    if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: page1, page: 1, page_size: 12, total: 14 });
    if (url.pathname === '/api/v1/emojis/pages/2') return json({ items: [template(1, 'Oldest')], page: 2, page_size: 12, total: 14 });
    if (url.pathname === '/api/v1/faces/ranking') return json({ items: ranking, window_days: 7 });
    return json({ error: { code: 'not_found', message: 'No such endpoint.' } }, 404);
  });
}

describe('GalleryPage', () => {
  it('shows the templates newest first, the podium and the chart', async () => {
    api();
    renderApp(<AppRoutes />);

    const cards = await screen.findAllByRole('article');
    expect(cards.map((c) => within(c).getByRole('heading').textContent)).toEqual(['Cats 🐱', 'Dogs', 'Noto Color']);
    expect(within(cards[0]!).getByText(/by bob/)).toBeInTheDocument();
    expect(within(cards[2]!).getByText(/Built in/)).toBeInTheDocument();
    expect(within(cards[1]!).getByRole('link', { name: 'Use this template: Dogs' })).toHaveAttribute('href', '/upload?template=13');

    const podium = await screen.findByRole('list', { name: 'Top three' });
    const places = within(podium).getAllByRole('listitem');
    expect(places.map((p) => within(p).getByRole('link').textContent)).toEqual(['Dogs', 'Cats 🐱', 'Noto Color']);
    expect(within(places[0]!).getByText('9 uses')).toBeInTheDocument();

    const chart = screen.getByRole('img', { name: /Uses per template/ });
    expect(chart).toHaveAccessibleName(expect.stringContaining('4. Seventh: 1 use'));
    const bars = screen.getAllByTestId('ranking-bar');
    expect(bars.map((b) => b.getAttribute('width'))).toEqual(['100%', `${(4 / 9) * 100}%`, `${(1 / 9) * 100}%`, `${(1 / 9) * 100}%`]);
  });

  it('pages through the gallery', async () => {
    const fetch = api();
    renderApp(<AppRoutes />);
    await screen.findAllByRole('article');
    await userEvent.click(screen.getByRole('button', { name: 'Go to page 2' }));
    expect(await screen.findByRole('heading', { name: 'Oldest' })).toBeInTheDocument();
    expect(fetchedUrls(fetch).map((u) => u.pathname)).toContain('/api/v1/emojis/pages/2');
    expect(screen.getByRole('button', { name: 'Page 2, current page' })).toHaveAttribute('aria-current', 'page');
  });

  it('keeps the ranking live over the WebSocket', async () => {
    api();
    renderApp(<AppRoutes />);
    await screen.findByRole('list', { name: 'Top three' });

    await waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
    const ws = FakeWebSocket.last();
    expect(ws.url).toBe('ws://localhost:3000/api/v1/ws');
    act(() => ws.serverOpens());
    expect(ws.sent).toEqual([{ type: 'subscribe', topic: 'ranking' }]);

    act(() => ws.serverSends({ type: 'ranking.updated', ranking: [{ rank: 1, uses: 12, template: page1[0] }] }));
    // Store updates reach the UI batched (RTK's auto-batching), so wait for them.
    const podium = screen.getByRole('list', { name: 'Top three' });
    expect(await within(podium).findByText('12 uses')).toBeInTheDocument();
    expect(within(podium).getAllByRole('listitem')).toHaveLength(1);
  });

  it('says so when the server cannot be reached', async () => {
    mockFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    renderApp(<AppRoutes />);
    const alerts = await screen.findAllByRole('alert');
    expect(alerts[0]).toHaveTextContent('Cannot reach the server');
  });

  // jsdom has no layout: the browser does the fitting (checked at 360 px in
  // Chromium); here, that the whole name is there, in a box that cuts it.
  it('lets a long name in the chart give way to its count, whole for the browser to cut', async () => {
    const long = '귀여운 고양이 이모지 모음집 최고의 템플릿 😺😸😹';
    mockFetch((url) => {
      if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: page1, page: 1, page_size: 12, total: 3 });
      if (url.pathname === '/api/v1/faces/ranking') {
        return json({ items: [{ rank: 1, uses: 12345, template: template(9, long) }], window_days: 7 });
      }
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    renderApp(<AppRoutes />);
    const name = await screen.findByTestId('ranking-name');
    expect(name).toHaveTextContent(`1. ${long}`);
    expect(name).toHaveStyle({ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', minWidth: '0' });
    const count = within(name.parentElement!).getByText('12345 uses');
    expect(count).toHaveStyle({ flexShrink: '0' });
  });
});
