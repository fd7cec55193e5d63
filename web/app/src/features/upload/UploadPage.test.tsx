import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { AppRoutes } from '../../App';
import type { Task } from '../../api/types';
import { FakeWebSocket } from '../../../test/fakeWebSocket';
import { json, loggedIn, makeTask, mockFetch, renderApp, template, testStore } from '../../../test/utils';

const ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const result = {
  image_url: '/media/results/r.jpg?exp=1&sig=s',
  width: 800,
  height: 600,
  faces: [{ box: [200, 150, 100, 100] as [number, number, number, number], expression: 'happy' as const, probs: { neutral: 0.1, happy: 0.8, sad: 0.02, angry: 0.02, surprised: 0.02, fearful: 0.02, disgusted: 0.02 } }],
};
const queued: Task = makeTask(ID);

describe('UploadPage', () => {
  it('sends the photo and template, shows live progress, then the result with its "before"', async () => {
    let done = false;
    let sent: FormData | null = null;
    mockFetch(async (url, req) => {
      if (url.pathname === '/api/v1/emojis/1') return json(template(1, 'Fluent Flat', { builtin: true }));
      if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: [template(1, 'Fluent Flat')], page: 1, page_size: 12, total: 1 });
      if (url.pathname === '/api/v1/faces/tasks' && req.method === 'POST') {
        sent = await req.formData();
        return json(queued, 202);
      }
      if (url.pathname === `/api/v1/faces/tasks/${ID}`) return json(done ? { ...queued, state: 'done', stage: 'done', percent: 100, result } : queued);
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    FakeWebSocket.mode = 'open';
    renderApp(<AppRoutes />, { route: '/upload?template=1' });
    const user = userEvent.setup();

    await screen.findByRole('option', { name: 'Fluent Flat' });
    expect(screen.getByRole('combobox', { name: 'Template' })).toHaveValue('1');
    const photo = new File(['pretend JPEG'], 'me.jpg', { type: 'image/jpeg' });
    await user.upload(screen.getByLabelText('Choose a photo'), photo);
    expect(screen.getByRole('img', { name: 'The photo you chose' })).toHaveAttribute('src', expect.stringMatching(/^blob:/));
    await user.click(screen.getByRole('button', { name: 'Emojify!' }));

    await waitFor(() => expect(sent).not.toBeNull());
    expect(sent!.get('template_id')).toBe('1');
    // jsdom's File reaches Node's fetch without its name or bytes intact
    // (browsers send it as it is): the part and its type are what we can check.
    expect((sent!.get('image') as File).type).toBe('image/jpeg');

    const bar = await screen.findByRole('progressbar', { name: 'Progress' });
    await waitFor(() => expect(FakeWebSocket.last().sent).toContainEqual({ type: 'subscribe', topic: 'task', task_id: ID }));
    act(() => FakeWebSocket.last().serverSends({ type: 'task.progress', task_id: ID, stage: 'reading', percent: 60 }));
    expect(bar).toHaveAttribute('aria-valuenow', '60');
    expect(bar).toHaveAttribute('aria-valuetext', 'Reading expressions, 60%');
    expect(screen.getByTestId('transport')).toHaveTextContent('Live updates');

    done = true;
    act(() => FakeWebSocket.last().serverSends({ type: 'task.done', task_id: ID, result }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Your result' })).toBeInTheDocument();
    expect(screen.getByText('1 face found.')).toBeInTheDocument();
    expect(screen.getByRole('img', { name: 'The photo before' })).toHaveAttribute('src', expect.stringMatching(/^blob:/));
    expect(screen.getByRole('slider', { name: 'Before and after' })).toBeInTheDocument();
  });

  it('sends one task for a double click', async () => {
    let posts = 0;
    mockFetch(async (url, req) => {
      if (url.pathname === '/api/v1/emojis/1') return json(template(1, 'Fluent Flat', { builtin: true }));
      if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: [template(1, 'Fluent Flat')], page: 1, page_size: 12, total: 1 });
      if (url.pathname === '/api/v1/faces/tasks' && req.method === 'POST') {
        posts++;
        return json(queued, 202);
      }
      if (url.pathname === `/api/v1/faces/tasks/${ID}`) return json(queued);
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    FakeWebSocket.mode = 'open';
    renderApp(<AppRoutes />, { route: '/upload?template=1' });
    const user = userEvent.setup();
    await screen.findByRole('option', { name: 'Fluent Flat' });
    await user.upload(screen.getByLabelText('Choose a photo'), new File(['pretend JPEG'], 'me.jpg', { type: 'image/jpeg' }));
    // Scaling the photo before upload takes a moment, as in a browser: the
    // second click lands while it runs.
    const saved = globalThis.createImageBitmap;
    globalThis.createImageBitmap = vi.fn(() => new Promise<ImageBitmap>((_ok, fail) => setTimeout(() => fail(new Error('slow')), 200)));
    try {
      await user.dblClick(screen.getByRole('button', { name: 'Emojify!' }));
      expect(await screen.findByText('Uploading your photo…')).toBeInTheDocument();
      await screen.findByRole('progressbar', { name: 'Progress' });
    } finally {
      globalThis.createImageBitmap = saved;
    }
    expect(posts).toBe(1);
  });

  it('does not pass off a template that is gone as chosen', async () => {
    mockFetch(async (url) => {
      if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: [template(1, 'Fluent Flat')], page: 1, page_size: 12, total: 1 });
      return json({ error: { code: 'not_found', message: 'Template not found.' } }, 404);
    });
    renderApp(<AppRoutes />, { route: '/upload?template=99' });
    const user = userEvent.setup();
    await screen.findByRole('option', { name: 'Fluent Flat' });
    await screen.findByText('Template not found.');
    const select = screen.getByRole('combobox', { name: 'Template' });
    expect(select).toHaveValue('');
    expect(screen.getByRole('option', { name: 'Choose a template…' })).toBeInTheDocument();
    await user.upload(screen.getByLabelText('Choose a photo'), new File(['pretend JPEG'], 'me.jpg', { type: 'image/jpeg' }));
    expect(screen.getByRole('button', { name: 'Emojify!' })).toBeDisabled();
    await user.selectOptions(select, 'Fluent Flat');
    await waitFor(() => expect(select).toHaveValue('1'));
  });

  it('says the template is gone, and clears the choice, when it was deleted before the send; the error is brought into view', async () => {
    let deleted = false;
    mockFetch(async (url, req) => {
      if (url.pathname === '/api/v1/emojis/1') {
        return deleted ? json({ error: { code: 'not_found', message: 'Template not found.' } }, 404) : json(template(1, 'Mine'));
      }
      if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: [template(1, 'Mine'), template(2, 'Fluent Flat')], page: 1, page_size: 12, total: 2 });
      if (url.pathname === '/api/v1/faces/tasks' && req.method === 'POST') {
        deleted = true; // its maker deleted it meanwhile
        return json({ error: { code: 'invalid', message: 'template_id: no such template; pick one from the gallery.' } }, 400);
      }
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    const scrolled = vi.fn();
    Element.prototype.scrollIntoView = scrolled;
    renderApp(<AppRoutes />, { route: '/upload?template=1' });
    const user = userEvent.setup();
    await screen.findByRole('option', { name: 'Mine' });
    await user.upload(screen.getByLabelText('Choose a photo'), new File(['pretend JPEG'], 'me.jpg', { type: 'image/jpeg' }));
    await user.click(screen.getByRole('button', { name: 'Emojify!' }));

    expect(await screen.findByText('The template was deleted meanwhile. Choose another one.')).toBeInTheDocument();
    expect(screen.queryByText(/template_id/)).not.toBeInTheDocument();
    const select = screen.getByRole('combobox', { name: 'Template' });
    await waitFor(() => expect(select).toHaveValue(''));
    expect(screen.getByRole('button', { name: 'Emojify!' })).toBeDisabled();
    expect(scrolled).toHaveBeenCalled();
    // Choosing another clears the error.
    await user.selectOptions(select, 'Fluent Flat');
    await waitFor(() => expect(screen.queryByText('The template was deleted meanwhile. Choose another one.')).not.toBeInTheDocument());
    delete (Element.prototype as { scrollIntoView?: unknown }).scrollIntoView;
  });

  it('refuses a file the browser cannot open as an image', async () => {
    mockFetch(async (url) => {
      if (url.pathname === '/api/v1/emojis/1') return json(template(1, 'Fluent Flat', { builtin: true }));
      if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: [template(1, 'Fluent Flat')], page: 1, page_size: 12, total: 1 });
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    const saved = globalThis.createImageBitmap;
    globalThis.createImageBitmap = vi.fn().mockRejectedValue(new DOMException('not an image', 'InvalidStateError'));
    try {
      renderApp(<AppRoutes />, { route: '/upload?template=1' });
      const user = userEvent.setup();
      await screen.findByRole('option', { name: 'Fluent Flat' });
      await user.upload(screen.getByLabelText('Choose a photo'), new File(['hello'], 'fake.png', { type: 'image/png' }));
      expect(await screen.findByRole('alert')).toHaveTextContent('This file is not a photo your browser can open.');
      expect(screen.queryByRole('img', { name: 'The photo you chose' })).not.toBeInTheDocument();
      expect(screen.getByRole('button', { name: 'Emojify!' })).toBeDisabled();
    } finally {
      globalThis.createImageBitmap = saved;
    }
  });

  it('keeps the place of a keyboard user whose control is replaced', async () => {
    mockFetch(async (url) => {
      if (url.pathname === '/api/v1/emojis/1') return json(template(1, 'Fluent Flat', { builtin: true }));
      if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: [template(1, 'Fluent Flat')], page: 1, page_size: 12, total: 1 });
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    renderApp(<AppRoutes />, { route: '/upload?template=1' });
    const user = userEvent.setup();
    await screen.findByRole('option', { name: 'Fluent Flat' });
    const step2 = screen.getByRole('region', { name: /2\./ });
    expect(step2).not.toHaveFocus();
    await user.upload(screen.getByLabelText('Choose a photo'), new File([new Uint8Array(8)], 'me.png', { type: 'image/png' }));
    await waitFor(() => expect(step2).toHaveFocus());
    await user.click(await screen.findByRole('button', { name: 'Choose another photo' }));
    await waitFor(() => expect(step2).toHaveFocus());
    expect(screen.getByRole('button', { name: 'Choose a photo' })).toBeInTheDocument();
  });

  it('is usable again when the send after a failed task is refused', async () => {
    let posts = 0;
    mockFetch(async (url, req) => {
      if (url.pathname === '/api/v1/emojis/1') return json(template(1, 'Fluent Flat', { builtin: true }));
      if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: [template(1, 'Fluent Flat')], page: 1, page_size: 12, total: 1 });
      if (url.pathname === '/api/v1/faces/tasks' && req.method === 'POST') {
        if (++posts === 1) return json(queued, 202);
        return json({ error: { code: 'rate_limited', message: 'Too many uploads; wait a minute.' } }, 429);
      }
      if (url.pathname === `/api/v1/faces/tasks/${ID}`) {
        return json({ ...queued, state: 'failed', error: { code: 'bad_photo', message: 'Unreadable.' } });
      }
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    FakeWebSocket.mode = 'fail';
    renderApp(<AppRoutes />, { route: '/upload?template=1' });
    const user = userEvent.setup();
    await screen.findByRole('option', { name: 'Fluent Flat' });
    await user.upload(screen.getByLabelText('Choose a photo'), new File(['pretend JPEG'], 'me.jpg', { type: 'image/jpeg' }));
    await user.click(screen.getByRole('button', { name: 'Emojify!' }));
    expect(await screen.findByText('This photo could not be read. Try another one.')).toBeInTheDocument();

    await waitFor(() => expect(screen.getByRole('button', { name: 'Emojify!' })).toBeEnabled());
    await user.click(screen.getByRole('button', { name: 'Emojify!' }));
    expect(await screen.findByText('Too many uploads; wait a minute.')).toBeInTheDocument();
    expect(posts).toBe(2);
    // Nothing is under way: the page is not locked.
    await waitFor(() => expect(screen.getByRole('button', { name: 'Emojify!' })).toBeEnabled());
    expect(screen.getByRole('button', { name: 'Choose another photo' })).toBeEnabled();
    expect(screen.getByRole('combobox', { name: 'Template' })).toBeEnabled();
  });

  it('says what is wrong with a photo in the language chosen since', async () => {
    mockFetch(async (url) => {
      if (url.pathname === '/api/v1/emojis/1') return json(template(1, 'Fluent Flat', { builtin: true }));
      if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: [template(1, 'Fluent Flat')], page: 1, page_size: 12, total: 1 });
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    renderApp(<AppRoutes />, { route: '/upload?template=1' });
    const user = userEvent.setup();
    await screen.findByRole('option', { name: 'Fluent Flat' });
    const notes = new File(['hello'], 'notes.txt', { type: 'text/plain' });
    fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files: [notes], types: ['Files'] } });
    expect(await screen.findByRole('alert')).toHaveTextContent('Use a JPEG, PNG or WebP photo.');
    await user.click(within(screen.getByRole('group', { name: 'Language' })).getByRole('button', { name: '한국어' }));
    expect(screen.getByRole('alert')).toHaveTextContent('JPEG, PNG, WebP 사진을 사용하세요.');
  });

  it('keeps the page when a file is dropped beside the drop zone, and takes one dropped on it', async () => {
    mockFetch(async (url) => {
      if (url.pathname === '/api/v1/emojis/1') return json(template(1, 'Fluent Flat', { builtin: true }));
      if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: [template(1, 'Fluent Flat')], page: 1, page_size: 12, total: 1 });
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    renderApp(<AppRoutes />, { route: '/upload?template=1' });
    await screen.findByRole('option', { name: 'Fluent Flat' });
    const drag = { dataTransfer: { files: [new File(['pretend PNG'], 'me.png', { type: 'image/png' })], types: ['Files'] } };
    // fireEvent answers false when the default (the browser opening the file) was cancelled.
    const title = screen.getByRole('heading', { level: 1 });
    expect(fireEvent.dragOver(title, drag)).toBe(false);
    expect(fireEvent.drop(title, drag)).toBe(false);
    // Text dragged about is not a file: left to the browser.
    expect(fireEvent.drop(title, { dataTransfer: { files: [], types: ['text/plain'] } })).toBe(true);

    expect(fireEvent.dragOver(screen.getByTestId('dropzone'), drag)).toBe(false);
    fireEvent.drop(screen.getByTestId('dropzone'), drag);
    const another = await screen.findByRole('button', { name: 'Choose another photo' });
    // Once chosen, the photo's area is no drop zone: still no page lost.
    expect(fireEvent.drop(another, drag)).toBe(false);
  });

  it('says so, with a way to log in, when the task can no longer be read after the session ended', async () => {
    mockFetch(async (url, req) => {
      if (url.pathname === '/api/v1/emojis/1') return json(template(1, 'Fluent Flat', { builtin: true }));
      if (url.pathname === '/api/v1/emojis/pages/1') return json({ items: [template(1, 'Fluent Flat')], page: 1, page_size: 12, total: 1 });
      if (url.pathname === '/api/v1/faces/tasks' && req.method === 'POST') return json(queued, 202);
      // The person's own task: not readable without their token.
      if (url.pathname === `/api/v1/faces/tasks/${ID}`) {
        return req.headers.get('Authorization') ? json(queued) : json({ error: { code: 'not_found', message: 'No such task.' } }, 404);
      }
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    renderApp(<AppRoutes />, { route: '/upload?template=1', store: testStore({ auth: loggedIn() }) });
    const user = userEvent.setup();
    await screen.findByRole('option', { name: 'Fluent Flat' });
    await user.upload(screen.getByLabelText('Choose a photo'), new File(['pretend JPEG'], 'me.jpg', { type: 'image/jpeg' }));
    await user.click(screen.getByRole('button', { name: 'Emojify!' }));
    await screen.findByRole('progressbar', { name: 'Progress' });
    act(() => FakeWebSocket.last().serverOpens());
    act(() => FakeWebSocket.last().serverCloses(4001)); // the token ran out

    const dialog = await screen.findByRole('dialog', { name: 'Your session has ended' });
    await user.click(within(dialog).getByRole('button', { name: 'Not now' }));
    const alert = await screen.findByText(/The progress can no longer be read/);
    expect(within(alert.closest('[role="alert"]') as HTMLElement).getByRole('link', { name: 'Log in' })).toHaveAttribute(
      'href',
      `/login?next=%2Fresults%2F${ID}`,
    );
  });
});
