/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The Go server the dev server forwards to (`igemoji serve`, default :8080).
const backend = process.env.IGEMOJI_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // dist/.vite/manifest.json: read by scripts/route-size.mjs, which then
    // removes it (the Go binary embeds dist/ whole, with all:).
    manifest: true,
    target: 'es2022',
    sourcemap: false,
    rolldownOptions: {
      output: {
        // Libraries every page needs get chunks of their own, so that a new
        // release of the app's code does not invalidate them in caches.
        // MUI components stay with the pages that use them.
        codeSplitting: {
          groups: [
            { name: 'react', test: /[\\/]node_modules[\\/](react|react-dom|scheduler|react-router|cookie)[\\/]/, priority: 3 },
            {
              name: 'redux',
              test: /[\\/]node_modules[\\/](@reduxjs|react-redux|redux|redux-thunk|immer|reselect|use-sync-external-store)[\\/]/,
              priority: 2,
            },
            {
              name: 'mui-system',
              test: /[\\/]node_modules[\\/](@emotion|@mui[\\/](system|styled-engine|utils|private-theming)|stylis|@babel[\\/]runtime|hoist-non-react-statics|react-is|prop-types|clsx)[\\/]/,
              priority: 1,
            },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': {
        target: backend,
        changeOrigin: true,
        ws: true,
        // The WebSocket handshake checks Origin against Host; after
        // changeOrigin the Host is the backend's, so make Origin match.
        configure(proxy) {
          proxy.on('proxyReqWs', (proxyReq) => proxyReq.setHeader('Origin', backend));
        },
      },
      '/media': { target: backend, changeOrigin: true },
      // A regular expression: a bare '/s' prefix would also catch /signup.
      '^/s/': { target: backend, changeOrigin: true },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    restoreMocks: true,
    testTimeout: 20_000, // above asyncUtilTimeout (test/setup.ts), so a slow wait fails as itself
  },
});
