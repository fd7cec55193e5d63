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
    // dist/.vite/manifest.json: read by scripts/route-size.mjs. go:embed
    // skips dot-directories unless told otherwise, so it is not shipped.
    manifest: true,
    target: 'es2022',
    sourcemap: false,
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
  },
});
