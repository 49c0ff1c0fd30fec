import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Built from the repository root: `npx vite build --config admin/vite.config.ts`.
// The dev server reads this folder and ../ui (code shared with the web app), nothing else of the repository.
const root = fileURLToPath(new URL('.', import.meta.url));
const shared = fileURLToPath(new URL('../ui', import.meta.url));

export default defineConfig({
  root,
  base: '/admin/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    port: 5174,
    fs: { allow: [root, shared] },
    proxy: { '/api': { target: 'http://127.0.0.1:3000', changeOrigin: false } },
  },
  preview: { port: 4174, proxy: { '/api': { target: 'http://127.0.0.1:3000' } } },
});
