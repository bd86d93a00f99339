/**
 * Captures over the network: the tablet's 'capture' request (a per-tablet budget, the QR
 * code of the capture's page) and the pages a visitor's phone opens:
 *   GET /captures/<id>       a small page with the portrait, a download link and the notice
 *   GET /captures/<id>.png   the portrait as the display showed it (download)
 *   GET /captures/<id>-print.png  the large print, once made (server/capture-prints.ts)
 *   GET /captures/<id>.json  the sidecar (seeds, latent, settings, model, "AI-generated")
 * Ids are checked against the capture id pattern before any file is touched.
 */
import { access } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import express, { type Router } from 'express';
import { TokenBucket } from 'limiter';
import QRCode from 'qrcode';
import { refusal, type CaptureAck } from '../../common/protocol.js';
import type { LiveState } from '../../common/state.js';
import { isLoopback } from '../access.js';
import { AI_NOTICE, CAPTURE_ID, type Captures } from '../captures.js';
import { logger } from '../log.js';

const log = logger('captures');

/** Each tablet may capture this many times in a burst, refilled at this many a minute. */
export const CAPTURE_BURST = 3;
export const CAPTURES_PER_MINUTE = 6;

/**
 * The base URL a phone on the installation's network can open: the configured publicUrl,
 * else the address the tablet itself used, else (a tablet on this machine, with the server
 * listening on every interface) the first LAN address.
 */
export function publicBase(publicUrl: string | undefined, host: string | undefined, port: number, listenHost: string): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  const match = host ? /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host) : null;
  const name = match?.[1];
  const bare = name?.replace(/^\[|\]$/g, '');
  const local = !bare || bare === 'localhost' || isLoopback(bare);
  const everywhere = listenHost === '0.0.0.0' || listenHost === '::';
  if (name && (!local || !everywhere)) return `http://${name}${match?.[2] ? `:${match[2]}` : ''}`;
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((n) => n && n.family === 'IPv4' && !n.internal);
  return `http://${lan?.address ?? '127.0.0.1'}:${port}`;
}

/** The tablet side: budget, save, page URL and QR code. */
export function captureRequests(captures: Captures, state: () => Readonly<LiveState>, opts: { publicUrl?: string | undefined; port: () => number; listenHost: string }) {
  const buckets = new Map<string, TokenBucket>();
  return {
    async capture(socketId: string, host: string | undefined): Promise<CaptureAck> {
      let bucket = buckets.get(socketId);
      if (!bucket) {
        bucket = new TokenBucket({ bucketSize: CAPTURE_BURST, tokensPerInterval: CAPTURES_PER_MINUTE, interval: 'minute' });
        bucket.content = CAPTURE_BURST;
        buckets.set(socketId, bucket);
      }
      if (!bucket.tryRemoveTokens(1)) return refusal('rate-limited', 'that was a lot of pictures: wait a few seconds before the next one');
      const id = await captures.save(state());
      const url = `${publicBase(opts.publicUrl, host, opts.port(), opts.listenHost)}/captures/${id}`;
      const svg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, color: { dark: '#000000', light: '#ffffff' } });
      return { ok: true, id, url, qr: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
    },
    forget(socketId: string): void {
      buckets.delete(socketId);
    },
  };
}

const PAGE_CSS = `
html { background: #111; color: #e9e6df; font: 18px/1.5 system-ui, sans-serif; }
body { margin: 0 auto; max-width: 34rem; padding: 1.5rem; text-align: center; }
img { width: 100%; height: auto; border-radius: 12px; display: block; }
a.button { display: inline-block; margin: 1.2rem 0.4rem 0; padding: 0.8rem 1.4rem; border-radius: 999px; background: #e8b07a; color: #1b1206; text-decoration: none; font-weight: 600; }
a.small { color: #b9b4aa; }
.notice { color: #b9b4aa; font-size: 0.9rem; margin-top: 1.5rem; }
.making { color: #b9b4aa; }
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The capture's page; `print`: the large print's size and whether it is ready (size 0: no prints). */
function page(id: string, print: { size: number; ready: boolean }): string {
  const safe = escapeHtml(id);
  const making = print.size > 0 && !print.ready;
  const download = print.ready
    ? `<p><a class="button" href="/captures/${safe}-print.png" download="imaginary-portrait-${safe}-${print.size}px.png">Download the print (${print.size} px)</a></p>
<p><a class="small" href="/captures/${safe}.png" download="imaginary-portrait-${safe}.png">The picture as the screen showed it</a></p>`
    : `<p><a class="button" href="/captures/${safe}.png" download="imaginary-portrait-${safe}.png">Download the picture</a></p>${
        making ? `\n<p class="making">A ${print.size} px print of this moment is being made; this page offers it in a few seconds.</p>` : ''
      }`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">${making ? '<meta http-equiv="refresh" content="4">' : ''}<title>Your imaginary portrait</title><link rel="stylesheet" href="/captures/page.css"></head>
<body><h1>Your imaginary portrait</h1>
<img src="/captures/${safe}${print.ready ? '-print' : ''}.png" alt="A portrait of a person who does not exist">
${download}
<p><a class="small" href="/captures/${safe}.json" download="imaginary-portrait-${safe}.json">How it was made (JSON)</a></p>
<p class="notice">${escapeHtml(AI_NOTICE)}</p>
</body></html>`;
}

export function captureRoutes(captures: Captures): Router {
  const router = express.Router();
  router.get('/captures/page.css', (_req, res) => {
    res.type('text/css').set('Cache-Control', 'public, max-age=3600').send(PAGE_CSS);
  });
  router.get('/captures/:name', (req, res, next) => {
    const m = /^([^.]+?)(-print)?(?:\.(png|json))?$/.exec(req.params.name);
    const id = m?.[1];
    const isPrint = m?.[2] !== undefined;
    const ext = m?.[3] as 'png' | 'json' | undefined;
    if (!id || !CAPTURE_ID.test(id) || (isPrint && ext !== 'png')) return void res.status(404).type('text/plain').send('No such capture.');
    if (!ext) {
      // The page only for a capture that is complete: its sidecar is written last.
      access(captures.file(id, 'json')!).then(
        async () => {
          const ready = captures.printSize > 0 && (await access(captures.file(id, 'print')!).then(() => true, () => false));
          res.type('html').set('Cache-Control', 'no-cache').send(page(id, { size: captures.printSize, ready }));
        },
        () => void res.status(404).type('text/plain').send('No such capture.'),
      );
      return;
    }
    const path = captures.file(id, isPrint ? 'print' : ext)!;
    res.sendFile(path, { headers: { 'Cache-Control': 'private, max-age=86400' } }, (err) => {
      if (!err) return;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return void res.status(404).type('text/plain').send(isPrint ? 'The print is not ready (yet).' : 'No such capture.');
      log.warn({ id, err: err.message }, 'capture download failed');
      next(err);
    });
  });
  return router;
}
