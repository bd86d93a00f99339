/**
 * What the controller page fetches to build itself:
 *   GET /api/tablet            the generator's shape, the named directions, the dream styles
 *   GET /models/<id>/<file>    the running generator's files, read-only, so the tablet can
 *                              render candidate faces itself with onnxruntime-web
 * Only files the running generator's manifest lists are served; anything else is a 404.
 */
import { join } from 'node:path';
import express, { type Router } from 'express';
import type { Manifest } from '../../common/manifest.js';
import { refusal, type TabletSetup } from '../../common/protocol.js';
import { sendRefusal } from './http-hardening.js';

export interface TabletRoutesOptions {
  id: string;
  dir: string;
  manifest: Manifest;
  dreamStyles: { name: string; description?: string }[];
}

export function tabletSetup(opts: TabletRoutesOptions): TabletSetup {
  const g = opts.manifest.generator;
  if (!g) throw new Error(`model '${opts.id}' has no generator section`);
  return {
    model: {
      id: opts.id,
      url: `/models/${encodeURIComponent(opts.id)}/${encodeURIComponent(g.file)}`,
      input: g.input,
      output: g.output,
      latentSize: g.latentSize,
      resolution: g.resolution,
      range: g.range,
      ...(g.style ? { style: { psi: g.style.psi, mixInput: g.style.mixInput, mixFrom: g.style.mixFrom, layers: g.style.layers, groups: g.style.groups } } : {}),
    },
    directions: Object.entries(opts.manifest.directions ?? {}).map(([name, d]) => ({
      name,
      ...(d.description ? { description: d.description } : {}),
      ...(d.ends ? { ends: d.ends } : {}),
    })),
    dreamStyles: opts.dreamStyles,
  };
}

export function tabletRoutes(opts: TabletRoutesOptions): Router {
  const router = express.Router();
  const setup = tabletSetup(opts);
  // The generator file must be listed; a manifest without a file list still names its generator.
  const served = new Set([...(opts.manifest.files ?? []).map((f) => f.path), opts.manifest.generator!.file]);
  router.get('/api/tablet', (_req, res) => {
    res.set('Cache-Control', 'no-cache').json(setup);
  });
  router.get('/models/:id/:file', (req, res, next) => {
    const { id, file } = req.params;
    if (id !== opts.id || !served.has(file)) return sendRefusal(res, refusal('not-found', 'no such model file'));
    // Tablets keep the weights for a day; a new model comes with a new file hash in the manifest, but the same name, so not longer.
    res.sendFile(join(opts.dir, file), { headers: { 'Cache-Control': 'public, max-age=86400', 'Content-Type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' } }, (err) => {
      if (err && !res.headersSent) next(err);
    });
  });
  return router;
}
