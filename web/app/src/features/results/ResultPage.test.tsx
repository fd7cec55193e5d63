import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { AppRoutes } from '../../App';
import type { Task } from '../../api/types';
import { json, mockFetch, renderApp, sleep } from '../../../test/utils';
import { boxPercent } from './FaceBoxes';

const ID = 'feedfacefeedfacefeedfacefeedface';
const probs = (top: string) => ({ neutral: 0.05, happy: 0.05, sad: 0.05, angry: 0.05, surprised: 0.05, fearful: 0.05, disgusted: 0.05, [top]: 0.7 });
const task: Task = {
  task_id: ID,
  template_id: 2,
  state: 'done',
  stage: 'done',
  percent: 100,
  created_at: '2026-11-26T12:00:00Z',
  updated_at: '2026-11-26T12:00:01Z',
  error: null,
  result: {
    image_url: '/media/results/abc.jpg?exp=1&sig=s',
    width: 1920,
    height: 1280,
    faces: [
      { box: [480, 320, 192, 192], expression: 'happy', probs: probs('happy') },
      { box: [1200, 400, 160, 160], expression: 'sad', probs: probs('sad') },
    ],
  },
};

describe('boxPercent', () => {
  it('places a box by the share of the picture it covers', () => {
    expect(boxPercent([480, 320, 192, 192], 1920, 1280)).toEqual({ left: '25%', top: '25%', width: '10%', height: '15%' });
  });
});

describe('ResultPage', () => {
  it('shows the not-found page for an id that cannot be a task, without asking the server', async () => {
    const fetch = mockFetch(() => json({ error: { code: 'not_found', message: '' } }, 404));
    renderApp(<AppRoutes />, { route: '/results/123' });
    expect(await screen.findByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument();
    expect(fetch.mock.calls.filter(([u]) => String(u).includes('/faces/tasks/'))).toHaveLength(0);
  });

  it('shows the faces, downloads, shares (copying the link) and unshares', async () => {
    let shared = false;
    mockFetch(async (url, req) => {
      if (url.pathname === `/api/v1/faces/tasks/${ID}`) return json(shared ? { ...task, share_url: 'http://x/s/abc' } : task);
      if (url.pathname === `/api/v1/faces/tasks/${ID}/share` && req.method === 'POST') {
        shared = true;
        return json({ share_url: 'http://x/s/abc' });
      }
      if (url.pathname === `/api/v1/faces/tasks/${ID}/share` && req.method === 'DELETE') {
        shared = false;
        return json(null, 204);
      }
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    renderApp(<AppRoutes />, { route: `/results/${ID}` });
    const user = userEvent.setup();

    expect(await screen.findByText('2 faces found.')).toBeInTheDocument();
    expect(screen.getAllByTestId('face-box')).toHaveLength(2);
    expect(screen.getByRole('list', { name: 'Expression probabilities of Face 2' })).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Face 1 · Happy' })).toBeInTheDocument();
    expect(screen.getByText(/only kept in the browser tab/)).toBeInTheDocument();

    const download = screen.getByRole('link', { name: 'Download' });
    expect(download).toHaveAttribute('href', task.result!.image_url);
    expect(download).toHaveAttribute('download', 'igemoji-feedface.jpg');

    await user.click(screen.getByRole('button', { name: 'Share' }));
    expect(await screen.findByRole('textbox', { name: 'Share link' })).toHaveValue('http://x/s/abc');
    expect(screen.getByRole('status')).toHaveTextContent('Link copied.');
    expect(await navigator.clipboard.readText()).toBe('http://x/s/abc');
    // The pressed button is gone; focus is on the one in its place.
    await waitFor(() => expect(screen.getByRole('button', { name: 'Copy link' })).toHaveFocus());

    await user.click(screen.getByRole('button', { name: 'Stop sharing' }));
    await waitFor(() => expect(screen.queryByRole('textbox', { name: 'Share link' })).toBeNull());
    await waitFor(() => expect(within(screen.getByRole('main')).getByRole('button', { name: 'Share' })).toHaveFocus());
  });

  it('says so when the result is not there (or not yours)', async () => {
    mockFetch(() => json({ error: { code: 'not_found', message: 'No such task.' } }, 404));
    renderApp(<AppRoutes />, { route: `/results/${ID}` });
    expect(await screen.findByText(/does not exist, or it is not yours/)).toBeInTheDocument();
  });

  it('selects the link, with focus on it, when the clipboard is refused', async () => {
    mockFetch(async (url, req) => {
      if (url.pathname === `/api/v1/faces/tasks/${ID}/share` && req.method === 'POST') return json({ share_url: 'http://x/s/abc' });
      if (url.pathname === `/api/v1/faces/tasks/${ID}`) return json(task);
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    renderApp(<AppRoutes />, { route: `/results/${ID}` });
    const user = userEvent.setup();
    vi.spyOn(navigator.clipboard, 'writeText').mockRejectedValue(new DOMException('Write permission denied.', 'NotAllowedError'));

    await user.click(await screen.findByRole('button', { name: 'Share' }));
    const field = (await screen.findByRole('textbox', { name: 'Share link' })) as HTMLInputElement;
    expect(await screen.findByText('The link is selected: copy it with Ctrl+C (⌘C).')).toBeInTheDocument();
    await waitFor(() => expect(field).toHaveFocus());
    expect([field.selectionStart, field.selectionEnd]).toEqual([0, 'http://x/s/abc'.length]);
  });

  it('asks for a fresh image link when the image fails to load, at most once in 30 seconds', async () => {
    let reads = 0;
    mockFetch(async (url) => {
      if (url.pathname !== `/api/v1/faces/tasks/${ID}`) return json({ error: { code: 'not_found', message: '' } }, 404);
      reads++;
      return json({ ...task, result: { ...task.result!, image_url: `/media/results/abc.jpg?exp=${reads}&sig=s` } });
    });
    renderApp(<AppRoutes />, { route: `/results/${ID}` });
    const image = await screen.findByRole('img', { name: /The photo with emoji/ });
    expect(image).toHaveAttribute('src', expect.stringContaining('exp=1&'));

    fireEvent.error(image); // the signed link ran out
    await waitFor(() => expect(image).toHaveAttribute('src', expect.stringContaining('exp=2&')));
    fireEvent.error(image); // still failing: no loop of reads
    await sleep(100);
    expect(reads).toBe(2);

    // Hours on the page: the fresh link ran out too.
    const later = Date.now() + 31_000;
    vi.spyOn(Date, 'now').mockReturnValue(later);
    fireEvent.error(image);
    await waitFor(() => expect(image).toHaveAttribute('src', expect.stringContaining('exp=3&')));
  });
});
