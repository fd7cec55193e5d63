import CssBaseline from '@mui/material/CssBaseline';
import { ThemeProvider } from '@mui/material/styles';
import { lazy, type ReactNode } from 'react';
import { Provider } from 'react-redux';
import { BrowserRouter, Route, Routes } from 'react-router';
import { AppLayout } from './components/AppLayout';
import { RequireAuth } from './components/RequireAuth';
import type { AppStore } from './store';
import { theme } from './theme';

// Every page is its own chunk: the gallery (the landing page) loads only
// the shell and its own code.
const GalleryPage = lazy(() => import('./features/gallery/GalleryPage'));
const TemplatePage = lazy(() => import('./features/templates/TemplatePage'));
const NewTemplatePage = lazy(() => import('./features/templates/NewTemplatePage'));
const UploadPage = lazy(() => import('./features/upload/UploadPage'));
const ResultPage = lazy(() => import('./features/results/ResultPage'));
const LoginPage = lazy(() => import('./features/auth/LoginPage'));
const SignupPage = lazy(() => import('./features/auth/SignupPage'));
const MyPage = lazy(() => import('./features/me/MyPage'));
const NotFoundPage = lazy(() => import('./components/NotFoundPage'));

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<AppLayout />}>
        <Route index element={<GalleryPage />} />
        <Route path="templates/new" element={<RequireAuth><NewTemplatePage /></RequireAuth>} />
        <Route path="templates/:id" element={<TemplatePage />} />
        <Route path="upload" element={<UploadPage />} />
        <Route path="results/:taskId" element={<ResultPage />} />
        <Route path="login" element={<LoginPage />} />
        <Route path="signup" element={<SignupPage />} />
        <Route path="me" element={<RequireAuth><MyPage /></RequireAuth>} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

/** Store, theme and base styles: shared by the app and the tests. */
export function Providers({ store, children }: { store: AppStore; children: ReactNode }) {
  return (
    <Provider store={store}>
      <ThemeProvider theme={theme}>
        <CssBaseline />
        {children}
      </ThemeProvider>
    </Provider>
  );
}

export function App({ store }: { store: AppStore }) {
  return (
    <Providers store={store}>
      <BrowserRouter>
        <AppRoutes />
      </BrowserRouter>
    </Providers>
  );
}
