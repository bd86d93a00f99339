/**
 * What every bench prints first: the machine it ran on, and how busy that machine was
 * just before the run (figures taken while something else eats the CPU are not figures).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { RUNTIME_VERSION } from '../../server/onnx/runtime.js';

const NODE_MODULES = new URL('../../node_modules/', import.meta.url);

/** Read from the file: some packages' exports maps do not expose their package.json. */
function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`${name}/package.json`, NODE_MODULES), 'utf8')) as { version: string }).version;
  } catch {
    return 'absent';
  }
}

/** One-line description: CPU, cores, SIMD, memory, OS, Node and the runtimes the benches use. */
export function describeMachine(): string {
  const cpus = os.cpus();
  const flags = cpuFlags();
  const simd = ['avx512f', 'avx2', 'fma'].filter((f) => flags.has(f)).join('/') || 'no AVX';
  const speed = cpus[0]?.speed || Number(cpuinfoField('cpu MHz'));
  const mhz = speed ? `${(speed / 1000).toFixed(2)} GHz` : 'unknown clock';
  return [
    `${cpus[0]?.model.trim() ?? '?'} (${cpuIdentity()}), ${cpus.length} logical cores at ${mhz}, ${simd}`,
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, node ${process.version}`,
    `onnxruntime (Node) ${RUNTIME_VERSION}, onnxruntime-web ${packageVersion('onnxruntime-web')}, sharp ${packageVersion('sharp')}, socket.io ${packageVersion('socket.io')}`,
  ].join('\n         ');
}

function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return new Set(line?.split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

function cpuinfoField(key: string): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8').match(new RegExp(`^${key}\\s*:\\s*(.+)$`, 'm'))?.[1]?.trim() ?? '?';
  } catch {
    return '?';
  }
}

/** Family/model from /proc/cpuinfo: "AMD EPYC" alone does not say which generation. */
function cpuIdentity(): string {
  const hv = cpuFlags().has('hypervisor') ? ', virtual machine' : '';
  return `family ${cpuinfoField('cpu family')} model ${cpuinfoField('model')}${hv}`;
}

/** Whole-machine CPU time counters (all cores), in clock ticks. */
export function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * How busy the machine is before the bench starts, sampled over `ms`: a percentage of all
 * cores. Prints a warning above 10 %, since the benches assume they have the CPU to themselves.
 */
export async function idleCheck(ms = 1000): Promise<string> {
  const a = machineTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineTicks();
  const busy = (100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total);
  const load = os.loadavg()[0]!.toFixed(2);
  const line = `machine busy before the run: ${busy.toFixed(0)} % of all cores (load average ${load})`;
  return busy > 10 ? `${line}\n  WARNING: other processes are using the CPU; these figures are not representative` : line;
}

export function header(title: string, reproduce: string): string {
  return `${title}\nmachine: ${describeMachine()}\nreproduce: ${reproduce}`;
}
