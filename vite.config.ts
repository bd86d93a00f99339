/**
 * The pages build in one pass: the display at `/`, the controller at `/controller/` and the VJ page at `/vj/`.
 * The server serves `dist/pages`; `npm run dev:pages` is not needed, the server is the origin.
 */
import { defineConfig } from 'vite';
import { resolve } from 'node:path';

export default defineConfig({
  root: resolve(import.meta.dirname),
  base: '/',
  publicDir: false,
  build: {
    outDir: resolve(import.meta.dirname, 'dist/pages'),
    emptyOutDir: true,
    target: 'es2022',
    // three.js alone is ~500 kB; the display is one page on a local network, not a web app.
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      input: {
        display: resolve(import.meta.dirname, 'display/index.html'),
        controller: resolve(import.meta.dirname, 'controller/index.html'),
        vj: resolve(import.meta.dirname, 'vj/index.html'),
      },
    },
  },
  // onnxruntime-web ships its own wasm loader; pre-bundling breaks its file lookup.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  // The tablet's face renderer is a module worker (controller/faces-worker.ts): ES output keeps
  // onnxruntime-web's `new URL(wasm, import.meta.url)` pointing at the emitted asset.
  worker: { format: 'es' },
});
