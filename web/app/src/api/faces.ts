import { api, MINE } from './base';
import type { ShareResponse, Task } from './types';

export const facesApi = api.injectEndpoints({
  endpoints: (build) => ({
    /** multipart: template_id + image. Answered 202 with the queued task. */
    createTask: build.mutation<Task, { image: Blob; filename: string; templateId: number }>({
      query: ({ image, filename, templateId }) => {
        const body = new FormData();
        body.append('template_id', String(templateId)); // first: the server reads parts in order
        body.append('image', image, filename);
        return { url: 'faces/tasks', method: 'POST', body };
      },
    }),
    getTask: build.query<Task, string>({
      query: (id) => `faces/tasks/${encodeURIComponent(id)}`,
      providesTags: (_res, _err, id) => [{ type: 'Task', id }],
    }),
    deleteTask: build.mutation<void, string>({
      query: (id) => ({ url: `faces/tasks/${encodeURIComponent(id)}`, method: 'DELETE' }),
      // Not the task's own tag: the page showing it leaves instead of refetching a 404.
      invalidatesTags: (_res, err) => (err ? [] : [{ type: 'Task', id: MINE }]),
    }),
    shareTask: build.mutation<ShareResponse, string>({
      query: (id) => ({ url: `faces/tasks/${encodeURIComponent(id)}/share`, method: 'POST' }),
      // My results says which are shared. The task itself is patched below
      // rather than read again.
      invalidatesTags: (_res, err) => (err ? [] : [{ type: 'Task', id: MINE }]),
      async onQueryStarted(id, { dispatch, queryFulfilled }) {
        const { data } = await queryFulfilled.catch(() => ({ data: null }));
        if (data) {
          dispatch(
            facesApi.util.updateQueryData('getTask', id, (draft) => {
              draft.share_url = data.share_url;
            }),
          );
        }
      },
    }),
    unshareTask: build.mutation<void, string>({
      query: (id) => ({ url: `faces/tasks/${encodeURIComponent(id)}/share`, method: 'DELETE' }),
      invalidatesTags: (_res, err) => (err ? [] : [{ type: 'Task', id: MINE }]),
      async onQueryStarted(id, { dispatch, queryFulfilled }) {
        const ok = await queryFulfilled.then(
          () => true,
          () => false,
        );
        if (ok) {
          dispatch(
            facesApi.util.updateQueryData('getTask', id, (draft) => {
              delete draft.share_url;
            }),
          );
        }
      },
    }),
  }),
});

export const { useCreateTaskMutation, useGetTaskQuery, useDeleteTaskMutation, useShareTaskMutation, useUnshareTaskMutation } =
  facesApi;
