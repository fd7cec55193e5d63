import { api, LIST, MINE } from './base';
import { followRanking } from './liveRanking';
import type { Page, Ranking, Template } from './types';

export const emojisApi = api.injectEndpoints({
  endpoints: (build) => ({
    getGalleryPage: build.query<Page<Template>, number>({
      query: (page) => `emojis/pages/${page}`,
      providesTags: (res) => [
        { type: 'Template', id: LIST },
        ...(res?.items ?? []).map((t) => ({ type: 'Template' as const, id: t.id })),
      ],
    }),
    getTemplate: build.query<Template, number>({
      query: (id) => `emojis/${id}`,
      providesTags: (_res, _err, id) => [{ type: 'Template', id }],
    }),
    /** multipart: name + the seven class files. */
    createTemplate: build.mutation<Template, FormData>({
      query: (body) => ({ url: 'emojis', method: 'POST', body }),
      invalidatesTags: [
        { type: 'Template', id: LIST },
        { type: 'Template', id: MINE },
      ],
    }),
    deleteTemplate: build.mutation<void, number>({
      query: (id) => ({ url: `emojis/${id}`, method: 'DELETE' }),
      invalidatesTags: (_res, err, id) =>
        err
          ? []
          : [
              { type: 'Template', id },
              { type: 'Template', id: LIST },
              { type: 'Template', id: MINE },
              'Ranking',
            ],
    }),
    /** The ranking, kept live over the WebSocket while anyone shows it. */
    getRanking: build.query<Ranking, void>({
      query: () => 'faces/ranking',
      providesTags: ['Ranking'],
      async onCacheEntryAdded(_arg, { updateCachedData, cacheDataLoaded, cacheEntryRemoved }) {
        try {
          await cacheDataLoaded;
        } catch {
          return; // the entry went away before its first answer
        }
        const feed = followRanking((items) =>
          updateCachedData((draft) => {
            draft.items = items;
          }),
        );
        await cacheEntryRemoved;
        feed.close();
      },
    }),
  }),
});

export const {
  useGetGalleryPageQuery,
  useGetTemplateQuery,
  useCreateTemplateMutation,
  useDeleteTemplateMutation,
  useGetRankingQuery,
} = emojisApi;
