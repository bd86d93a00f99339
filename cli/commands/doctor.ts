/**
 * `portraits doctor`: checks this machine for the installation, one line per check, each
 * problem with what to do about it. Node, the configuration, the model (manifest valid,
 * ONNX loads and runs one frame), the dream network (its styles compile and take a step),
 * the execution provider, free ports, Chromium, and, if a
 * server answers, its /health (displays, heartbeats, GPU adapter, frame rate).
 * Exit code 1 when any check is an error; warnings alone exit 0.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import type { Command } from '../command.js';
import { flagOptions, flagTable, parseFlags, type FlagTable } from '../flags.js';
import { UsageError } from '../command.js';
import { fetchHealth, findLocalServer } from '../find-server.js';
import { serverFlags } from '../server-flags.js';

export type Level = 'ok' | 'warn' | 'error';

export interface Finding {
  check: string;
  level: Level;
  message: string;
  fix?: string;
}

export interface DoctorOptions {
  /** Config file (else PORTRAITS_CONFIG); flags override it like the server's. */
  configFile?: string;
  overrides?: Record<string, string>;
  /** The running server to ask; default http://127.0.0.1:<port>, then any local port where one answers. */
  url?: string;
  /** Where to look for a server the configuration does not point at: every listening local port (default), these ports, or nowhere (false). */
  discover?: boolean | readonly number[];
  env?: NodeJS.ProcessEnv;
}

const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const HEALTH_TIMEOUT_MS = 3000;

type Config = import('../../server/config.js').ResolvedConfig;
type Check = (ctx: Context) => Promise<Finding[]>;

interface Context {
  options: DoctorOptions;
  env: NodeJS.ProcessEnv;
  config: Config | null;
  provider: { provider: string; fallback?: string } | null;
  health: Record<string, unknown> | null;
  healthUrl: string | null;
}

const f = (check: string, level: Level, message: string, fix?: string): Finding => (fix ? { check, level, message, fix } : { check, level, message });

function atLeast(version: string, min: string): boolean {
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

const checkNode: Check = async () => {
  const { ROOT_DIR } = await import('../../server/config.js');
  const engines = (JSON.parse(readFileSync(join(ROOT_DIR, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines?.node ?? '>=20.19';
  const min = /(\d+(?:\.\d+){0,2})/.exec(engines)?.[1] ?? '20.19';
  const version = process.versions.node;
  return atLeast(version, min)
    ? [f('node', 'ok', `v${version} (needs ${engines})`)]
    : [f('node', 'error', `v${version} is too old (needs ${engines})`, 'install Node.js 20.19 or newer (Debian: the nodejs package from NodeSource, or nvm)')];
};

const checkConfig: Check = async (ctx) => {
  const { ConfigError, resolveConfig } = await import('../../server/config.js');
  const file = ctx.options.configFile ?? ctx.env.PORTRAITS_CONFIG;
  try {
    ctx.config = resolveConfig(ctx.options.overrides ?? {}, ctx.env, file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [f('config', 'error', err.message, `fix the key named above in ${file ?? 'the environment or flags'} (see docs/kiosk.md, "Configuration")`)];
  }
  const hours = ctx.config.schedule ? `opening hours in ${ctx.config.schedule.timezone ?? 'the local time zone'}` : 'no opening hours (always on)';
  return [f('config', 'ok', `${file ?? 'defaults and environment'}: port ${ctx.config.port}, model ${ctx.config.model}, ${ctx.config.fps} fps, ${hours}`)];
};

const checkModel: Check = async (ctx) => {
  const config = ctx.config;
  if (!config) return [f('model', 'error', 'skipped: the configuration is invalid')];
  const { ModelError } = await import('../../server/onnx/session.js');
  const { openGenerator, readManifest, DEFAULT_MODEL } = await import('../../server/models/registry.js');
  const { floatFeeds } = await import('../../server/onnx/runtime.js');
  const { seedToLatent } = await import('../../common/latent.js');
  const { generatorFeeds } = await import('../../common/generator-inputs.js');
  const { DEFAULT_STATE } = await import('../../common/state.js');
  const out: Finding[] = [];
  try {
    await readManifest(join(config.modelsDir, config.model));
  } catch (err) {
    const fallback = config.model !== DEFAULT_MODEL;
    out.push(
      f('model', fallback ? 'warn' : 'error', (err as Error).message, fallback ? `the server falls back to '${DEFAULT_MODEL}'; fix the manifest or set "model" to a folder in ${config.modelsDir}` : undefined),
    );
    if (!fallback) return out.concat(f('model', 'error', `no usable model in ${config.modelsDir}`, `restore models/${DEFAULT_MODEL} (git checkout -- models/${DEFAULT_MODEL}) or point "modelsDir" at a folder that holds it`));
  }
  let generator;
  try {
    generator = await openGenerator(config);
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    return out.concat(f('model', 'error', err.message));
  }
  try {
    const { spec } = generator;
    // Fed as a frame is (a style generator's truncation and mixing inputs included).
    const feeds = generatorFeeds(spec, seedToLatent(1, spec.latentSize), 1, DEFAULT_STATE.face);
    const result = await generator.session.run(floatFeeds(feeds));
    const dims = result[spec.output]?.dims ?? [];
    const size = `${spec.resolution}x${spec.resolution}`;
    if (dims.join(',') !== `1,3,${spec.resolution},${spec.resolution}`) {
      out.push(f('model', 'error', `${generator.id}: one test frame came out as [${dims.join(',')}], the manifest promises [1,3,${spec.resolution},${spec.resolution}]`, 'fix the manifest or re-export the model'));
    } else {
      out.push(f('model', 'ok', `${generator.id}: manifest valid, ONNX loads and generates a ${size} test frame (${generator.file})`));
    }
    ctx.provider = { provider: generator.session.provider, ...(generator.session.fallback ? { fallback: generator.session.fallback } : {}) };
  } catch (err) {
    out.push(f('model', 'error', `${generator.id}: the test frame failed: ${(err as Error).message.split('\n')[0]}`, 'the model file is damaged or does not match its manifest; re-export it'));
  } finally {
    await generator.session.release();
  }
  return out;
};

/** The dream network: which one, its styles, and the default style compiled and stepped once on a small picture. */
const checkDream: Check = async (ctx) => {
  const config = ctx.config;
  if (!config) return [f('dream', 'error', 'skipped: the configuration is invalid')];
  const { dreamModelId, readManifest, DEFAULT_DREAM_MODEL } = await import('../../server/models/registry.js');
  const { DreamCatalogue } = await import('../../server/dream/styles.js');
  const { DreamNet } = await import('../../server/dream/net.js');
  const { noiseImage } = await import('../../server/dream/engine.js');
  const generator = await readManifest(join(config.modelsDir, config.model)).catch(() => undefined);
  const id = dreamModelId(config.modelsDir, config.dreamModel, generator);
  const restore = `restore the shipped one with \`git checkout -- models/${DEFAULT_DREAM_MODEL}\``;
  if (!id) return [f('dream', 'warn', `no dream network: models/${DEFAULT_DREAM_MODEL} is missing and the model names no critic; dreaming is off`, restore)];
  let net;
  try {
    const dir = join(config.modelsDir, id);
    const catalogue = new DreamCatalogue(id, dir, await readManifest(dir));
    const style = catalogue.styles[0]!;
    const started = performance.now();
    net = await DreamNet.open(style.spec, 'cpu');
    const { grad } = await net.gradient(noiseImage(64, 64, 1));
    if (!grad.every(Number.isFinite)) throw new Error(`style '${style.name}' gives a gradient that is not finite`);
    const ms = Math.round(performance.now() - started);
    return [f('dream', 'ok', `${id}: styles ${catalogue.styles.map((s) => s.name).join(', ')}; '${style.name}' compiles and dreams a test step (${ms} ms)`)];
  } catch (err) {
    return [f('dream', 'error', `${id}: ${(err as Error).message.split('\n')[0]}`, id === DEFAULT_DREAM_MODEL ? restore : `fix models/${id} or set "dreamModel" to another dream network`)];
  } finally {
    await net?.dispose();
  }
};

/** Vulkan drivers installed, by ICD file name; lavapipe (lvp) is a software driver. */
function vulkanDrivers(): string[] {
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
  return dirs.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((n) => n.endsWith('.json')) : []));
}

const checkProvider: Check = async (ctx) => {
  if (!ctx.provider) return [f('provider', 'error', 'skipped: no model could be loaded')];
  const out: Finding[] = [];
  const { provider, fallback } = ctx.provider;
  const gpuFix = 'install the GPU driver with Vulkan support (Debian: mesa-vulkan-drivers, or the vendor driver), and add the kiosk user to the "render" and "video" groups';
  if (provider === 'cpu') {
    out.push(f('provider', 'warn', fallback ? `generation runs on the CPU: ${fallback}` : 'generation runs on the CPU ("provider": "cpu" in the configuration)', fallback ? gpuFix : 'set "provider" to "auto" on a machine with a GPU'));
  } else {
    out.push(f('provider', 'ok', `generation runs on ${provider}`));
  }
  const drivers = vulkanDrivers();
  const hardware = drivers.filter((d) => !/lvp|lavapipe|swiftshader/i.test(d));
  if (!drivers.length) out.push(f('provider', 'warn', 'no Vulkan driver is installed', gpuFix));
  else if (!hardware.length) out.push(f('provider', 'warn', `only a software Vulkan driver is installed (${drivers.join(', ')})`, gpuFix));
  return out;
};

function tcpFree(port: number, host: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err) => resolve(err));
    server.listen(port, host, () => server.close(() => resolve(null)));
  });
}

function udpFree(port: number, host: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', (err) => {
      socket.close();
      resolve(err);
    });
    socket.bind(port, host, () => socket.close(() => resolve(null)));
  });
}

/** The OSC listener, when the configuration has one (`oscPort`, 'off' or 0 for none, and `oscHost`). */
function oscListener(config: Config): { port: number; host: string } | null {
  const c = config as unknown as Record<string, unknown>;
  const port = typeof c.oscPort === 'number' && c.oscPort > 0 ? c.oscPort : null;
  const host = typeof c.oscHost === 'string' ? c.oscHost : '0.0.0.0';
  return port ? { port, host } : null;
}

const checkPorts: Check = async (ctx) => {
  const config = ctx.config;
  if (!config) return [];
  const out: Finding[] = [];
  if (config.port === 0) out.push(f('ports', 'ok', 'HTTP port 0: the server picks a free one'));
  else {
    const err = await tcpFree(config.port, config.host);
    const ours = ctx.health !== null && ctx.healthUrl !== null && new URL(ctx.healthUrl).port === String(config.port);
    if (!err) out.push(f('ports', 'ok', `HTTP port ${config.port} is free`));
    else if (err.code === 'EADDRINUSE' && ours) out.push(f('ports', 'ok', `HTTP port ${config.port} is in use by the running Portraits server`));
    else if (err.code === 'EADDRINUSE') out.push(f('ports', 'error', `HTTP port ${config.port} is used by another program`, `find it with \`ss -ltnp 'sport = :${config.port}'\`, or set "port" in the configuration`));
    else out.push(f('ports', 'error', `HTTP port ${config.port} on ${config.host}: ${err.code ?? err.message}`, err.code === 'EACCES' ? 'ports below 1024 need root; use 8080' : 'check "host" and "port" in the configuration'));
  }
  const listener = oscListener(config);
  if (listener) {
    const osc = listener.port;
    const err = await udpFree(osc, listener.host);
    if (!err) out.push(f('ports', 'ok', `OSC port ${osc}/udp is free`));
    else if (err.code === 'EADDRINUSE' && ctx.health) out.push(f('ports', 'ok', `OSC port ${osc}/udp is in use (the running server holds it)`));
    else out.push(f('ports', 'error', `OSC port ${osc}/udp: ${err.code ?? err.message}`, `find the program with \`ss -lunp 'sport = :${osc}'\`, or change the OSC port in the configuration`));
  }
  return out;
};

function chromiumPath(env: NodeJS.ProcessEnv): string | null {
  if (env.PORTRAITS_CHROMIUM) return env.PORTRAITS_CHROMIUM;
  return CHROMIUM_PATHS.find((p) => existsSync(p)) ?? null;
}

const checkChromium: Check = async (ctx) => {
  const path = chromiumPath(ctx.env);
  const fix = 'install it: `sudo apt-get install chromium` (Debian) or `sudo apt-get install chromium-browser` (Ubuntu); or set PORTRAITS_CHROMIUM to its path';
  if (!path) return [f('chromium', 'error', `no Chromium at ${CHROMIUM_PATHS.join(' or ')}`, fix)];
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return [f('chromium', 'error', `${path} is missing or not executable`, fix)];
  }
  const version = await new Promise<string | null>((resolve) => {
    execFile(path, ['--version'], { timeout: 15_000 }, (err, stdout) => resolve(err ? null : stdout.trim()));
  });
  return version
    ? [f('chromium', 'ok', `${version} (${path})`)]
    : [f('chromium', 'warn', `${path} did not report its version`, 'run it by hand to see why (on Ubuntu, chromium-browser needs the snap to be installed)')];
};

const checkDisplay: Check = async (ctx) => {
  const url = ctx.healthUrl;
  const h = ctx.health;
  if (!url) return [f('display', 'warn', 'skipped: no server address (the configuration is invalid)')];
  if (!h) return [f('display', 'warn', `no Portraits server answers at ${url}/health`, 'start it: `systemctl --user start portraits` (kiosk) or `npm start`; logs: `journalctl --user -u portraits`')];
  const out: Finding[] = [];
  const screens = Array.isArray(h.heartbeats) ? (h.heartbeats as { id: string; address: string; stale: boolean; software: boolean; renderer: string | null; fps: number | null }[]) : [];
  const reasons = Array.isArray(h.reasons) ? (h.reasons as string[]) : [];
  const displays = typeof h.displays === 'number' ? h.displays : screens.length;
  if (h.open === false) out.push(f('display', 'ok', 'outside opening hours: the screen is dark and generation idles on purpose'));
  else if (displays === 0) out.push(f('display', 'warn', `the server at ${url} runs, but no display is connected`, 'check the display: `systemctl --user status portraits-display`, `journalctl --user -u portraits-display`'));
  for (const s of screens) {
    if (s.stale) out.push(f('display', 'error', `display ${s.id} (${s.address}) has stopped sending heartbeats`, 'the page is hung or its GPU process died: `systemctl --user restart portraits-display`'));
    else if (s.software) out.push(f('display', 'warn', `display ${s.id} (${s.address}) draws with a software adapter: ${s.renderer}`, 'install the GPU driver; check chrome://gpu on that screen; the display unit passes --ignore-gpu-blocklist'));
    else out.push(f('display', 'ok', `display ${s.id} (${s.address}) is alive${s.renderer ? ` on ${s.renderer}` : ''}${s.fps !== null ? `, drawing ${s.fps} fps` : ''}`));
  }
  for (const r of reasons.filter((r) => r.startsWith('generating'))) out.push(f('display', 'warn', r, 'check the provider line above; lower "fps" or "frameSize" in the configuration'));
  if (!out.length) out.push(f('display', 'ok', `server at ${url}: ${String(h.status)}`));
  return out;
};

/** How much larger than its pixels a screen may show a frame before it looks soft (the display's edge-aware enlargement holds up to about this). */
const MAX_SCREEN_ENLARGEMENT = 3;
/** How much larger than the model's faces frames may be: beyond this the upscaling is painting, not the model. */
const MAX_FRAME_ENLARGEMENT = 4;

/** Picture quality: the model's own size, the frame size, and how much each screen enlarges the frames. */
const checkPicture: Check = async (ctx) => {
  const h = ctx.health;
  if (!h || typeof h.frameSize !== 'number') return [];
  const frameSize = h.frameSize;
  const model = String(h.model);
  const out: Finding[] = [];
  let resolution: number | null = null;
  if (ctx.config) {
    const { readManifest } = await import('../../server/models/registry.js');
    resolution = (await readManifest(join(ctx.config.modelsDir, model)).catch(() => null))?.generator?.resolution ?? null;
  }
  if (resolution !== null) {
    const k = frameSize / resolution;
    if (k > MAX_FRAME_ENLARGEMENT) out.push(f('picture', 'warn', `model ${model} paints ${resolution} px faces and frames are ${frameSize} px: ${k.toFixed(1)}x enlarged, more than the upscaler can fill with real detail`, 'use a model with a larger base size, or a smaller frameSize'));
    else out.push(f('picture', 'ok', `model ${model} paints ${resolution} px faces; frames are ${frameSize} px`));
  }
  const screens = Array.isArray(h.heartbeats) ? (h.heartbeats as { id: string; screen?: { width: number; height: number } | null }[]) : [];
  for (const d of screens) {
    if (!d.screen) continue;
    const shown = Math.min(d.screen.width, d.screen.height);
    const k = shown / frameSize;
    const where = `display ${d.id} shows the ${frameSize} px frames ${shown} px tall (${d.screen.width}x${d.screen.height} screen)`;
    if (k > MAX_SCREEN_ENLARGEMENT) {
      const suggest = Math.min(2048, 2 ** Math.ceil(Math.log2(shown / MAX_SCREEN_ENLARGEMENT)));
      out.push(f('picture', 'warn', `${where}: ${k.toFixed(1)}x enlarged, it will look soft`, `set "frameSize" to ${suggest} or more if the frame rate allows (see /health fps)`));
    } else out.push(f('picture', 'ok', `${where}: ${k.toFixed(1)}x`));
  }
  return out;
};

export async function runDoctor(options: DoctorOptions = {}, print: (line: string) => void = () => {}): Promise<Finding[]> {
  const env = options.env ?? process.env;
  const ctx: Context = { options, env, config: null, provider: null, health: null, healthUrl: null };
  const findings: Finding[] = [];
  const report = (list: Finding[]) => {
    for (const x of list) {
      findings.push(x);
      print(`  ${x.level.padEnd(5)}  ${x.check.padEnd(8)}  ${x.message}${x.fix ? `\n${' '.repeat(19)}fix: ${x.fix}` : ''}`);
    }
  };
  report(await checkNode(ctx));
  report(await checkConfig(ctx));
  // Ask a running server first: its port being busy is then no problem.
  if (ctx.config || options.url) {
    ctx.healthUrl = (options.url ?? `http://127.0.0.1:${ctx.config!.port}`).replace(/\/+$/, '');
    ctx.health = await fetchHealth(ctx.healthUrl, HEALTH_TIMEOUT_MS);
    // Not where the configuration says (started with another --port or PORT): look on every local port.
    if (!ctx.health && !options.url && options.discover !== false) {
      const found = await findLocalServer(ctx.config ? [ctx.config.port] : [], Array.isArray(options.discover) ? options.discover : undefined);
      if (found) {
        report([f('server', 'ok', `found the running Portraits server at ${found.url} (the configuration says port ${ctx.config?.port ?? '?'}); checking that one`)]);
        ctx.healthUrl = found.url;
        ctx.health = found.health;
      }
    }
  }
  for (const check of [checkModel, checkDream, checkProvider, checkPorts, checkChromium, checkDisplay, checkPicture]) report(await check(ctx));
  return findings;
}

/** The doctor's own flags; every server setting is a flag too (serverFlags), overriding the configuration as it does for the server. */
const DOCTOR_FLAGS = flagTable({
  config: { type: 'string', value: 'FILE', default: 'PORTRAITS_CONFIG, else the defaults and environment', help: 'the server configuration file (JSON) to check' },
  url: { type: 'string', value: 'URL', default: 'http://127.0.0.1:PORT, then any local port where a Portraits server answers', help: 'the running server to ask for its /health' },
  json: { type: 'boolean', help: 'print the findings as JSON, for scripts' },
});

async function doctorFlags(): Promise<FlagTable> {
  return { ...DOCTOR_FLAGS, ...(await serverFlags()) };
}

export const doctor: Command = {
  name: 'doctor',
  summary: 'check this machine: Node, config, model, dream network, GPU provider, ports, Chromium, display; says what to fix',
  usage: 'portraits doctor [--config FILE] [--url http://HOST:PORT] [--json] [--port N] [--models-dir DIR] [--model ID] [--provider auto|webgpu|cpu] [any server flag]',
  flags: doctorFlags,
  async details() {
    return '\nThe server settings above are checked as the server would take them: defaults, the config file, the environment, then these flags.';
  },
  async run(argv) {
    // Quiet the server modules' JSON logs: the doctor speaks in its own lines.
    process.env.LOG_LEVEL ??= 'silent';
    const { ConfigSchema, kebab } = await import('../../server/config.js');
    const keys = Object.keys(ConfigSchema.shape);
    const values: Record<string, string | boolean | undefined> = parseFlags(argv, flagOptions(await doctorFlags())).values;
    const overrides: Record<string, string> = {};
    for (const k of keys) if (typeof values[kebab(k)] === 'string') overrides[k] = values[kebab(k)] as string;
    const json = values.json === true;
    if (!json) process.stdout.write('portraits doctor\n');
    const findings = await runDoctor(
      { overrides, ...(typeof values.config === 'string' ? { configFile: values.config } : {}), ...(typeof values.url === 'string' ? { url: values.url } : {}) },
      json ? undefined : (line) => process.stdout.write(line + '\n'),
    );
    const errors = findings.filter((x) => x.level === 'error').length;
    const warnings = findings.filter((x) => x.level === 'warn').length;
    if (json) process.stdout.write(JSON.stringify({ ok: errors === 0, errors, warnings, findings }, null, 2) + '\n');
    else process.stdout.write(`\n${errors ? `${errors} error(s)` : 'no errors'}, ${warnings} warning(s)${errors ? ': fix the errors above, then run `npx portraits doctor` again' : ''}\n`);
    return errors ? 1 : 0;
  },
};
