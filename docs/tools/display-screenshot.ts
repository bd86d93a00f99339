/**
 * The README's gallery screenshot: the installation as it starts (the default model, its face
 * stage, the default frame size and upscaler, the display's edge-aware shader), one still seed
 * with the dream off, drawn by headless Chromium at 1920x1080; plus a 1:1 crop of the face so
 * eyes, lashes and hair can be judged at the screen's own pixels.
 *
 *   npx tsx docs/tools/display-screenshot.ts [--seed 7] [--out docs/images]
 *
 * Writes display-1080p.png and display-1080p-crop.png (640x640 from the middle of the picture).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { chromiumPath, launchBrowser } from '../../test/support/browser.js';
import { connect, emitAck, startTestServer } from '../../test/support/server.js';
import { ensurePagesBuilt } from '../../test/e2e/pages.js';
import { readDisplay, sleep, waitForFrames } from '../../test/e2e/display-hook.js';

const VIEWPORT = { width: 1920, height: 1080 };
const CROP = 640;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string', default: '7' }, out: { type: 'string', default: 'docs/images' } } });
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed ${values.seed}: expected a whole number`);
  const chromium = chromiumPath();
  if (!chromium) throw new Error('Chromium is not installed (apt-get install chromium)');
  await ensurePagesBuilt();
  const server = await startTestServer();
  const browser = await launchBrowser(chromium);
  try {
    const controller = await connect(server, 'controller');
    const ack = await emitAck(controller, 'patch', { mode: 'seed', seed, glide: 0, dream: { mode: 'off' } });
    if (!(ack as { ok?: boolean }).ok) throw new Error(`the server refused the seed: ${JSON.stringify(ack)}`);
    controller.disconnect();
    const display = await browser.open(`${server.url}/`, VIEWPORT);
    await waitForFrames(display.page, 5, 60_000);
    await sleep(4000); // the first picture rises from black; let the blend settle on the still
    const { lastMeta } = await readDisplay(display.page);
    const shot = await display.page.screenshot();
    await mkdir(values.out!, { recursive: true });
    const full = join(values.out!, 'display-1080p.png');
    const crop = join(values.out!, 'display-1080p-crop.png');
    await writeFile(full, shot);
    await sharp(shot)
      .extract({ left: (VIEWPORT.width - CROP) / 2, top: (VIEWPORT.height - CROP) / 2, width: CROP, height: CROP })
      .png()
      .toFile(crop);
    process.stdout.write(`${JSON.stringify({ full, crop, seed, frame: lastMeta ? { width: lastMeta.width, height: lastMeta.height, face: lastMeta.face ?? null } : null })}\n`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`display-screenshot: ${err.message}\n`);
  process.exitCode = 1;
});
