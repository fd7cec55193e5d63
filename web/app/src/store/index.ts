import { combineReducers, configureStore, createListenerMiddleware, type ThunkAction, type UnknownAction } from '@reduxjs/toolkit';
import { setupListeners } from '@reduxjs/toolkit/query';
import { api } from '../api/base';
import langReducer, { detectLang, isLang, rememberLang, storedLang, type Lang } from '../i18n/lang';
import authReducer, { loadSession, saveSession, type AuthState } from './authSlice';
import uploadsReducer, { beforeCleared, beforeDropped, beforeKept } from './uploadsSlice';

const rootReducer = combineReducers({
  [api.reducerPath]: api.reducer,
  auth: authReducer,
  lang: langReducer,
  uploads: uploadsReducer,
});

export type RootState = ReturnType<typeof rootReducer>;

export interface StoreOptions {
  auth?: AuthState;
  lang?: Lang;
}

/** The app's store; tests build their own with a chosen session and language. */
export function makeStore({ auth, lang }: StoreOptions = {}) {
  const listener = createListenerMiddleware<RootState>();

  // The session mirrors to sessionStorage, the language to localStorage
  // and <html lang>.
  listener.startListening({
    predicate: (_action, now, before) => now.auth.session !== before.auth.session,
    effect: (_action, { getState }) => saveSession(getState().auth.session),
  });
  listener.startListening({
    predicate: (_action, now, before) => now.lang.lang !== before.lang.lang,
    effect: (_action, { getState }) => rememberLang(getState().lang.lang),
  });
  // Object URLs hold the photo's bytes until revoked.
  listener.startListening({
    predicate: (action) => beforeKept.match(action) || beforeDropped.match(action) || beforeCleared.match(action),
    effect: (_action, { getState, getOriginalState }) => {
      const kept = new Set(Object.values(getState().uploads.before));
      for (const url of Object.values(getOriginalState().uploads.before)) {
        if (!kept.has(url)) URL.revokeObjectURL(url);
      }
    },
  });

  // A choice made earlier is written again: the cookie too (choices made
  // before it existed), good for another year.
  const stored = storedLang();
  if (lang === undefined && isLang(stored)) rememberLang(stored);
  const store = configureStore({
    reducer: rootReducer,
    preloadedState: {
      auth: auth ?? { session: loadSession(), expired: false, lastEmail: '' },
      lang: { lang: lang ?? detectLang(stored) },
    },
    middleware: (getDefault) => getDefault().prepend(listener.middleware).concat(api.middleware),
  });
  setupListeners(store.dispatch);
  return store;
}

export type AppStore = ReturnType<typeof makeStore>;
export type AppDispatch = AppStore['dispatch'];
export type AppThunk<R = void> = ThunkAction<R, RootState, unknown, UnknownAction>;
