import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useLocation } from 'react-router';
import { describe, expect, it } from 'vitest';
import { AppRoutes } from '../../App';
import { EXPRESSIONS } from '../../lib/expressions';
import { json, loggedIn, mockFetch, renderApp, sleep, template, testStore } from '../../../test/utils';

function Where() {
  const { pathname } = useLocation();
  return <output data-testid="where">{pathname}</output>;
}

const label = (e: string) => `Choose the image for ${e[0]!.toUpperCase()}${e.slice(1)}`;
/** The slot's file input (its Choose button has the same name). */
const fileInput = (e: string) => screen.getAllByLabelText(label(e)).find((el) => el instanceof HTMLInputElement) as HTMLInputElement;

describe('NewTemplatePage', () => {
  it('sends focus to the first thing to fix, without seven alerts at once', async () => {
    const fetch = mockFetch(async () => json({ error: { code: 'not_found', message: '' } }, 404));
    renderApp(<AppRoutes />, { route: '/templates/new', store: testStore({ auth: loggedIn() }) });
    const user = userEvent.setup();
    const name = await screen.findByRole('textbox', { name: /Name/ });
    await user.click(screen.getByRole('button', { name: 'Publish' }));
    await waitFor(() => expect(name).toHaveFocus());
    expect(screen.getAllByText('An image is needed here.')).toHaveLength(7);
    expect(screen.queryAllByRole('alert')).toHaveLength(0);

    await user.type(name, 'My faces');
    await user.click(screen.getByRole('button', { name: 'Publish' }));
    expect(screen.getByRole('button', { name: 'Choose the image for Neutral' })).toHaveFocus();
    expect(fetch.mock.calls.some(([r]) => (r as Request).method === 'POST')).toBe(false);
  });

  it('does not pull the person back when a publish they left behind ends', async () => {
    let answer: (r: Response) => void = () => {};
    mockFetch((url, req) => {
      if (url.pathname === '/api/v1/emojis' && req.method === 'POST') return new Promise<Response>((ok) => (answer = ok));
      if (url.pathname.startsWith('/api/v1/emojis/pages/')) return json({ items: [], page: 1, page_size: 12, total: 0 });
      if (url.pathname === '/api/v1/faces/ranking') return json({ items: [], window_days: 7 });
      return json({ error: { code: 'not_found', message: '' } }, 404);
    });
    renderApp(
      <>
        <AppRoutes />
        <Where />
      </>,
      { route: '/templates/new', store: testStore({ auth: loggedIn() }) },
    );
    const user = userEvent.setup();
    await user.type(await screen.findByRole('textbox', { name: /Name/ }), 'My faces');
    for (const e of EXPRESSIONS) await user.upload(fileInput(e), new File(['pretend PNG'], `${e}.png`, { type: 'image/png' }));
    await user.click(screen.getByRole('button', { name: 'Publish' }));
    expect(await screen.findByRole('button', { name: 'Publishing…' })).toBeDisabled();

    await user.click(screen.getByRole('link', { name: 'Gallery' }));
    await waitFor(() => expect(screen.getByTestId('where')).toHaveTextContent(/^\/$/));
    answer(json(template(5, 'My faces'), 201));
    await sleep(100);
    expect(screen.getByTestId('where')).toHaveTextContent(/^\/$/);
  });

  it('says what is wrong with an image in the language chosen since', async () => {
    mockFetch(async () => json({ error: { code: 'not_found', message: '' } }, 404));
    renderApp(<AppRoutes />, { route: '/templates/new', store: testStore({ auth: loggedIn() }) });
    const user = userEvent.setup({ applyAccept: false });
    await screen.findByRole('textbox', { name: /Name/ });
    await user.upload(fileInput('happy'), new File(['hello'], 'notes.txt', { type: 'text/plain' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Use a PNG, WebP or JPEG image.');
    await user.click(within(screen.getByRole('group', { name: 'Language' })).getByRole('button', { name: '한국어' }));
    expect(screen.getByRole('alert')).toHaveTextContent('PNG, WebP, JPEG 이미지를 사용하세요.');
  });

  it('keeps the page when a file is dropped between the slots, and takes one dropped on a slot', async () => {
    mockFetch(async () => json({ error: { code: 'not_found', message: '' } }, 404));
    renderApp(<AppRoutes />, { route: '/templates/new', store: testStore({ auth: loggedIn() }) });
    const name = await screen.findByRole('textbox', { name: /Name/ });
    const drag = { dataTransfer: { files: [new File(['pretend PNG'], 'sad.png', { type: 'image/png' })], types: ['Files'] } };
    const slot = screen.getByRole('region', { name: 'Sad' });
    const grid = slot.parentElement as HTMLElement; // the gaps between the slots are its own
    // fireEvent answers false when the default (the browser opening the file) was cancelled.
    expect(fireEvent.dragOver(grid, drag)).toBe(false);
    expect(fireEvent.drop(grid, drag)).toBe(false);
    expect(fireEvent.drop(name, drag)).toBe(false);

    fireEvent.drop(slot, drag);
    expect(await within(slot).findByRole('img', { name: 'Preview of the Sad image' })).toBeInTheDocument();
  });
});
