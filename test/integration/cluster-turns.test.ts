/**
 * One tablet turn for the whole wall (server/cluster/shared-turn.ts), with two real server
 * processes on a private redis-server: a visitor on node B waits while one on node A
 * steers and takes over when A lets go; a turn that runs long ends for the tablet waiting
 * on the other node; a node killed while its tablet steers frees the turn by itself.
 * Short turns (5 s, 2 s idle grace) keep it quick. An admin token is set, so these
 * loopback sockets are visitors, as tablets are.
 */
import { describe, expect, it } from 'vitest';
import type { TabletStatus } from '../../common/protocol.js';
import { useTwoNodes, type ClusterNode } from '../support/cluster-node.js';
import { until } from '../support/wait.js';
import { redisServerPath } from '../support/redis.js';
import { emitAck, type TestSocket } from '../support/server.js';

const redisBinary = redisServerPath();
const TURN_S = 5;
const IDLE_S = 2;

/** A visitor tablet: its socket and the last turn status it heard. */
interface Tablet {
  socket: TestSocket;
  status: TabletStatus | null;
  steer(): Promise<boolean>;
}

let nudge = 0;

describe.skipIf(!redisBinary)('cluster: one tablet turn for the whole wall', { timeout: 60_000 }, () => {
  let a: ClusterNode;
  let b: ClusterNode;
  const open = useTwoNodes(
    redisBinary!,
    async (nodes) => {
      ({ a, b } = nodes);
    },
    { args: ['--turn-seconds', String(TURN_S), '--turn-idle-seconds', String(IDLE_S)], env: { PORTRAITS_ADMIN_TOKEN: 'cluster-turns-admin-token' } },
  );

  async function tablet(node: ClusterNode): Promise<Tablet> {
    const socket = await open(node, 'controller');
    const t: Tablet = {
      socket,
      status: null,
      // A real change each time, like a finger on a slider.
      steer: async () => (await emitAck(socket, 'patch', { glide: 0.2 + (nudge++ % 50) / 100 })).ok,
    };
    socket.on('tablet', (status) => (t.status = status));
    return t;
  }

  const turnOf = (t: Tablet) => t.status?.turn;

  it("a visitor on node B waits while one on node A steers, and takes over when A's visitor lets go", async () => {
    const onA = await tablet(a);
    const onB = await tablet(b);
    expect(await onA.steer()).toBe(true);
    let lastTouch = Date.now();
    // Node B hears that the turn is taken on A (published through Redis).
    const heard = await until(() => turnOf(onB), (turn) => turn === 'watching', 5000, "B's tablet sees another visitor steering");
    console.log(`turn taken on A -> B's tablet told: ${heard} ms`);
    const refused = await emitAck(onB.socket, 'patch', { glide: 0.9 });
    expect(refused).toMatchObject({ ok: false });
    expect(!refused.ok && refused.error).toMatch(/wait for your turn/);
    await until(() => onB.status, (s) => s?.turn === 'waiting' && s.position === 1 && s.seconds !== null, 5000, "B's tablet is first in the queue");
    // A's visitor sees the countdown, because someone waits on the other node (touching meanwhile, so the turn stays alive however slow the machine).
    await until(
      async () => {
        if (await onA.steer()) lastTouch = Date.now();
        return onA.status;
      },
      (s) => s?.turn === 'yours' && s.queue === 1 && s.seconds !== null,
      5000,
      "A's tablet shows the time left",
    );

    // A's visitor touched only once: after the idle grace the turn goes to B's visitor, not before.
    await until(() => turnOf(onB), (turn) => turn === 'yours', (IDLE_S + 5) * 1000, "B's tablet gets the turn");
    const handover = Date.now() - lastTouch;
    console.log(`A's last touch -> B's turn: ${handover} ms (idle grace ${IDLE_S} s)`);
    expect(handover).toBeGreaterThanOrEqual(IDLE_S * 1000);
    expect(await onB.steer()).toBe(true);
    expect(await onA.steer()).toBe(false);
    await until(() => turnOf(onA), (turn) => turn === 'waiting', 5000, "A's tablet now waits");
    for (const t of [onA, onB]) t.socket.close();
  });

  it('a turn that runs long ends for the visitor waiting on the other node, and does not come straight back', async () => {
    const onA = await tablet(a);
    const onB = await tablet(b);
    // Whoever held the turn before has left; A's visitor takes it and keeps touching.
    await until(() => onA.steer(), (ok) => ok, 10_000, "A's tablet gets a free turn");
    let touching = true;
    const touches = (async () => {
      while (touching) {
        await onA.steer();
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    await until(() => turnOf(onB), (turn) => turn === 'watching', 5000, "B's tablet sees A's visitor steering");
    const queued = Date.now();
    expect(await onB.steer()).toBe(false);
    await until(() => turnOf(onB), (turn) => turn === 'yours', (TURN_S + 6) * 1000, "B's tablet gets the turn although A's visitor keeps touching");
    console.log(`B queued -> B's turn while A kept touching: ${Date.now() - queued} ms (turn ${TURN_S} s)`);
    // A's visitor kept touching all along, and still does not get it back.
    expect(await onA.steer()).toBe(false);
    expect(await onB.steer()).toBe(true);
    touching = false;
    await touches;
    for (const t of [onA, onB]) t.socket.close();
  });

  it("a node killed while its visitor steers frees the turn by itself (the claim's time-to-live)", async () => {
    const onB = await tablet(b);
    const onA = await tablet(a);
    await until(() => onB.steer(), (ok) => ok, 10_000, "B's tablet gets a free turn");
    await until(() => turnOf(onA), (turn) => turn === 'watching', 5000, "A's tablet sees B's visitor steering");
    expect(await onA.steer()).toBe(false);
    const killed = Date.now();
    await b.kill9();
    await until(() => turnOf(onA), (turn) => turn === 'yours', (IDLE_S + 8) * 1000, "A's tablet gets the dead node's turn");
    console.log(`node B killed -> A's tablet has the turn: ${Date.now() - killed} ms`);
    expect(await onA.steer()).toBe(true);
    expect(a.errors).toEqual([]);
  });
});
