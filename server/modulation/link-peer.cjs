/**
 * An Ableton Link peer in its own process (server/modulation/link.ts starts it): the optional
 * `abletonlink` package (npm, MIT binding; it compiles Ableton's Link library, GPL-2.0-or-later,
 * with node-gyp) joins the Link session on the local network.
 *
 * Why a process of its own: the binding's static update thread is never joined, so any process
 * that created a Link instance ends with "terminate called without an active exception" and
 * SIGABRT (exit 134), even on a clean exit; here that touches nothing but this helper, which the
 * server ends with SIGTERM.
 *
 * Usage: node link-peer.cjs [initial bpm]. The initial tempo is only the session's if no other
 * peer is there yet. Writes JSON lines to stdout: {"ready":true}, then every 20 ms
 * {"bpm","beat","peers","at"} (beat on a quantum of 4, at = Date.now() of the reading), or
 * {"error"} and exits 1. Reads JSON lines on stdin: {"tempo": bpm} sets the session's tempo.
 * Ends itself (SIGTERM, no abort) when stdin closes: the server went away.
 */
'use strict';

let AbletonLink;
try {
  AbletonLink = require('abletonlink');
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: `cannot load the abletonlink package: ${err && err.message ? err.message.split('\n')[0] : String(err)}` })}\n`);
  process.exit(1);
}

const end = () => process.kill(process.pid, 'SIGTERM');
const initial = Number(process.argv[2]);
const link = new AbletonLink(Number.isFinite(initial) && initial >= 20 && initial <= 999 ? initial : 120, 4, true);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.stdout.on('error', end);

link.startUpdate(20, (beat, _phase, bpm) => {
  process.stdout.write(`${JSON.stringify({ bpm, beat, peers: link.getNumPeers(), at: Date.now() })}\n`);
});

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let newline;
  while ((newline = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    try {
      const message = JSON.parse(line);
      if (typeof message.tempo === 'number' && Number.isFinite(message.tempo) && message.tempo >= 20 && message.tempo <= 999) link.bpm = message.tempo;
    } catch {
      // not a line from the server; ignore it
    }
  }
});
process.stdin.on('end', end);
process.stdin.on('close', end);
