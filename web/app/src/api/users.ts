import { api, MINE } from './base';
import type { LoginRequest, LoginResponse, Page, SignupRequest, TakenCase, Task, Template, User } from './types';

export const usersApi = api.injectEndpoints({
  endpoints: (build) => ({
    checkTaken: build.query<{ taken: boolean }, { case: TakenCase; value: string }>({
      query: (params) => ({ url: 'users', params }),
      keepUnusedDataFor: 30,
    }),
    signUp: build.mutation<User, SignupRequest>({
      query: (body) => ({ url: 'users', method: 'POST', body }),
    }),
    logIn: build.mutation<LoginResponse, LoginRequest>({
      query: (body) => ({ url: 'users/auth', method: 'POST', body }),
    }),
    /** 204 once the account and everything it made are gone; the token then no longer works. */
    deleteAccount: build.mutation<void, { password: string }>({
      query: (body) => ({ url: 'users/me', method: 'DELETE', body }),
    }),
    /**
     * A log-in's answer with a new token: every older token, this tab's
     * too, stops working at once, so the caller must switch to it (renewSession).
     */
    changePassword: build.mutation<LoginResponse, { current_password: string; new_password: string }>({
      query: (body) => ({ url: 'users/me/password', method: 'PUT', body }),
    }),
    getMyResults: build.query<Page<Task>, number>({
      query: (page) => ({ url: 'users/mypage/results', params: { page } }),
      providesTags: (res) => [
        { type: 'Task', id: MINE },
        ...(res?.items ?? []).map((t) => ({ type: 'Task' as const, id: t.task_id })),
      ],
    }),
    getMyTemplates: build.query<Page<Template>, number>({
      query: (page) => ({ url: 'users/mypage/templates', params: { page } }),
      providesTags: [{ type: 'Template', id: MINE }],
    }),
  }),
});

export const {
  useCheckTakenQuery,
  useSignUpMutation,
  useLogInMutation,
  useDeleteAccountMutation,
  useChangePasswordMutation,
  useGetMyResultsQuery,
  useGetMyTemplatesQuery,
} = usersApi;
