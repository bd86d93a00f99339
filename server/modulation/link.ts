/**
 * Ableton Link for the modulator (state.modulation.tempoFrom 'link'): the tempo and the beat
 * of a Link session on the local network (Ableton Live, Resolume, TouchDesigner, phones), and
 * the tempo the VJ sets here sent back to it.
 *
 * Link comes from the optional npm package `abletonlink` (an MIT binding around Ableton's Link
 * library, which is GPL-2.0-or-later). npm builds it with node-gyp (it needs g++, make, python3
 * and Node's headers: Debian's nodejs has them in /usr/include/node); where it did not build or
 * install, tempoFrom 'link' is unavailable and says so. It runs in a helper process
 * (link-peer.cjs) rather than in the server: the binding aborts the process that loaded it
 * when that process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { logger } from '../log.js';
import type { TempoLink } from './modulator.js';

const log = logger('link');
const HELPER = fileURLToPath(new URL('./link-peer.cjs', import.meta.url));
/** A reading older than this is stale (the helper stopped). */
const STALE_MS = 1000;

/** Why Link cannot run here, or null when the abletonlink package is installed. */
export function linkProblem(): string | null {
  try {
    createRequire(import.meta.url).resolve('abletonlink');
    return null;
  } catch {
    return 'the optional package abletonlink is not installed (npm install abletonlink builds it with node-gyp: it needs g++, make, python3 and the Node headers)';
  }
}

interface Reading {
  bpm: number;
  beat: number;
  peers: number;
  at: number;
}

export class LinkSession implements TempoLink {
  private child: ChildProcess | null;
  private last: Reading | null = null;
  private peers = -1;
  private closed = false;

  /** Joins the session (or starts one at `bpm` if no peer is there). */
  constructor(bpm: number, node = process.execPath) {
    const child = spawn(node, [HELPER, String(bpm)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let pending = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        this.line(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-1000)));
    child.stdin!.on('error', () => undefined);
    child.on('error', (err) => log.warn({ err: err.message }, 'Ableton Link: the helper did not start'));
    child.on('close', (code, signal) => {
      this.child = null;
      if (!this.closed) log.warn({ code, signal, stderr: stderr.trim().split('\n').at(-1) }, 'Ableton Link: the helper stopped; the tempo stays where it was');
    });
  }

  reading(): Reading | null {
    if (!this.last || Date.now() - this.last.at > STALE_MS) return null;
    return this.last;
  }

  setTempo(bpm: number): void {
    if (!Number.isFinite(bpm)) return;
    this.child?.stdin?.write(`${JSON.stringify({ tempo: bpm })}\n`);
  }

  close(): void {
    this.closed = true;
    this.child?.kill('SIGTERM');
    this.child = null;
  }

  private line(text: string): void {
    let message: Partial<Reading> & { error?: string; ready?: boolean };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (message.error) {
      log.warn({ problem: message.error }, 'Ableton Link is unavailable');
      return;
    }
    if (typeof message.bpm !== 'number' || typeof message.beat !== 'number' || typeof message.at !== 'number') return;
    this.last = { bpm: message.bpm, beat: message.beat, peers: message.peers ?? 0, at: message.at };
    if (this.last.peers !== this.peers) {
      this.peers = this.last.peers;
      log.info({ peers: this.peers, bpm: Math.round(this.last.bpm * 100) / 100 }, 'Ableton Link session');
    }
  }
}

/** The modulator's openLink: a session, or why there cannot be one. */
export function openLink(bpm: number): TempoLink | { unavailable: string } {
  const problem = linkProblem();
  return problem ? { unavailable: problem } : new LinkSession(bpm);
}
