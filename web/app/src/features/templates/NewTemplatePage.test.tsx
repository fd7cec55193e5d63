import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { AppRoutes } from '../../App';
import { json, loggedIn, mockFetch, renderApp, testStore } from '../../../test/utils';

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
});
