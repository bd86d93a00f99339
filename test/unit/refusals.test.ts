import { describe, expect, it } from 'vitest';
import type { Response } from 'express';
import { refusal, type RefusalCode } from '../../common/protocol.js';
import { REFUSAL_STATUS, sendRefusal } from '../../server/inputs/http-hardening.js';

/** The statuses HTTP clients (and docs/reliability.md) rely on, by status: a wrong row in REFUSAL_STATUS fails here. */
const BY_STATUS: Record<number, RefusalCode[]> = { 400: ['invalid'], 401: ['needs-admin'], 403: ['forbidden'], 404: ['not-found'], 409: ['not-your-turn', 'locked', 'full'], 413: ['too-large'], 429: ['rate-limited'], 500: ['failed'], 501: ['unavailable'] };

function fakeResponse() {
  const sent: { status?: number; headers: Record<string, string>; body?: unknown } = { headers: {} };
  const res = {
    set(name: string, value: string) {
      sent.headers[name] = value;
      return res;
    },
    status(code: number) {
      sent.status = code;
      return res;
    },
    json(body: unknown) {
      sent.body = body;
      return res;
    },
  };
  return { res: res as unknown as Response, sent };
}

describe('refusal codes over HTTP', () => {
  it('map to their statuses', () => {
    const expected = Object.fromEntries(Object.entries(BY_STATUS).flatMap(([status, codes]) => codes.map((code) => [code, Number(status)])));
    expect(REFUSAL_STATUS).toEqual(expected);
  });

  it('answer with the code, not the message: a refusal that reads like another keeps its own status', () => {
    const { res, sent } = fakeResponse();
    sendRefusal(res, refusal('invalid', 'locked: wait for your turn'));
    expect(sent).toEqual({ status: 400, headers: {}, body: { ok: false, code: 'invalid', error: 'locked: wait for your turn' } });
    const turn = fakeResponse();
    sendRefusal(turn.res, refusal('not-your-turn', 'bad input'));
    expect(turn.sent).toMatchObject({ status: 409, body: { ok: false, code: 'not-your-turn', error: 'bad input' } });
  });

  it('needs-admin carries the Bearer challenge; the others do not', () => {
    const admin = fakeResponse();
    sendRefusal(admin.res, refusal('needs-admin', 'this needs the VJ'));
    expect(admin.sent).toMatchObject({ status: 401, headers: { 'WWW-Authenticate': expect.stringMatching(/^Bearer /) } });
    const forbidden = fakeResponse();
    sendRefusal(forbidden.res, refusal('forbidden', 'the admin token is wrong'));
    expect(forbidden.sent).toMatchObject({ status: 403, headers: {} });
  });
});
