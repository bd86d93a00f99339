/**
 * One schema, three descriptions: docs/osc.md's address table and the OSCQuery JSON are
 * generated from the same address space, and the doc in the repository is up to date.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE } from '../../common/state.js';
import { buildAddressSpace } from '../../server/osc/address-space.js';
import { updateDoc } from '../../server/osc/docs.js';
import { findNode, oscQueryTree } from '../../server/osc/oscquery.js';
import { allowList, parseEndpoint } from '../../server/osc/endpoints.js';
import { OSC_DOC } from '../../cli/commands/osc-table.js';

const space = buildAddressSpace();

describe('docs/osc.md', () => {
  it('has the address table of the current schema (run `npx portraits osc-table --write` after changing it)', () => {
    const doc = readFileSync(OSC_DOC, 'utf8');
    expect(doc, 'docs/osc.md is out of date: run `npx portraits osc-table --write`').toBe(updateDoc(doc, space));
    for (const p of space.params) expect(doc).toContain(`\`${p.address}\``);
  });
});

describe('OSCQuery tree', () => {
  const tree = oscQueryTree(space, DEFAULT_STATE);

  it('has a node per parameter with type, current value, range, access and description', () => {
    for (const param of space.params) {
      const node = findNode(tree, param.address);
      expect(node, param.address).toBeDefined();
      expect(node!.FULL_PATH).toBe(param.address);
      expect(node!.ACCESS).toBe(3);
      expect(node!.DESCRIPTION).toBeTruthy();
      expect(node!.TYPE!.length).toBe(node!.VALUE!.length);
      expect(node!.RANGE!.length).toBe(node!.VALUE!.length);
    }
    expect(findNode(tree, '/portraits/walk/speed')).toMatchObject({ TYPE: 'f', VALUE: [DEFAULT_STATE.walk.speed], RANGE: [{ MIN: 0, MAX: 2 }] });
    expect(findNode(tree, '/portraits/mode')).toMatchObject({ TYPE: 's', RANGE: [{ VALS: ['walk', 'loop', 'plane', 'seed'] }] });
  });

  it('nests containers by path and lists commands and services', () => {
    expect(tree.FULL_PATH).toBe('/');
    expect(findNode(tree, '/portraits/walk')!.CONTENTS).toHaveProperty('speed');
    expect(findNode(tree, '/portraits/newFace')).toMatchObject({ ACCESS: 2 });
    expect(findNode(tree, '/portraits/preset/load')).toMatchObject({ TYPE: 's', ACCESS: 2 });
    expect(findNode(tree, '/portraits/loop/wrapped')).toMatchObject({ TYPE: 'i', ACCESS: 1 });
    // /portraits/loop holds both parameters and the outgoing wrapped message
    expect(Object.keys(findNode(tree, '/portraits/loop')!.CONTENTS!)).toEqual(expect.arrayContaining(['seeds', 'period', 'wrapped']));
  });
});

describe('OSC peers', () => {
  it('allows addresses, subnets and everyone, and names a bad entry', () => {
    const local = allowList(['127.0.0.1', '::1']);
    expect(local('127.0.0.1')).toBe(true);
    expect(local('::ffff:127.0.0.1')).toBe(true);
    expect(local('::1')).toBe(true);
    expect(local('192.168.1.5')).toBe(false);
    const lan = allowList(['192.168.1.0/24']);
    expect(lan('192.168.1.200')).toBe(true);
    expect(lan('192.168.2.1')).toBe(false);
    expect(allowList(['*'])('10.1.2.3')).toBe(true);
    expect(() => allowList(['localhost'])).toThrow(/localhost/);
    expect(() => allowList(['10.0.0.0/33'])).toThrow(/prefix/);
  });

  it('parses host:port feedback targets', () => {
    expect(parseEndpoint('192.168.1.20:9001')).toEqual({ host: '192.168.1.20', port: 9001 });
    expect(parseEndpoint('[::1]:9001')).toEqual({ host: '::1', port: 9001 });
    expect(parseEndpoint('touchosc.local:8000')).toEqual({ host: 'touchosc.local', port: 8000 });
    expect(() => parseEndpoint('192.168.1.20')).toThrow(/host:port/);
    expect(() => parseEndpoint('h:70000')).toThrow(/host:port/);
  });
});
