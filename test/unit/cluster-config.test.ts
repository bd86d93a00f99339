/**
 * Cluster settings (docs/cluster.md): the Redis URL and node name are validated like every
 * other key, logs never show the Redis password, and a node's announced address follows
 * publicUrl or the listening address.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../server/config.js';
import { nodeUrl } from '../../server/cluster/cluster.js';
import { redactRedisUrl } from '../../server/cluster/redis-connection.js';

const resolve = (overrides: Record<string, unknown>) => resolveConfig(overrides as never, {}, undefined);

describe('cluster configuration', () => {
  it('defaults to a single node and accepts redis:// and rediss:// URLs', () => {
    expect(resolve({}).redisUrl).toBe('');
    expect(resolve({}).nodeName).toBe('');
    expect(resolve({ redisUrl: 'redis://:secret@10.0.0.5:6379' }).redisUrl).toBe('redis://:secret@10.0.0.5:6379');
    expect(resolve({ redisUrl: 'rediss://redis.local:6380/2' }).redisUrl).toBe('rediss://redis.local:6380/2');
  });

  it('refuses other URLs and odd node names, naming the key', () => {
    expect(() => resolve({ redisUrl: 'http://10.0.0.5:6379' })).toThrow(ConfigError);
    expect(() => resolve({ redisUrl: 'http://10.0.0.5:6379' })).toThrow(/redisUrl/);
    expect(() => resolve({ nodeName: 'left wall' })).toThrow(/nodeName/);
    expect(resolve({ nodeName: 'left-1.wall' }).nodeName).toBe('left-1.wall');
  });

  it('reads them from the environment', () => {
    const config = resolveConfig({}, { PORTRAITS_REDIS_URL: 'redis://127.0.0.1:6379', PORTRAITS_NODE_NAME: 'right' }, undefined);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.nodeName).toBe('right');
  });

  it('never shows the Redis password in logs', () => {
    expect(redactRedisUrl('redis://:hunter22@10.0.0.5:6379')).toBe('redis://:***@10.0.0.5:6379');
    expect(redactRedisUrl('redis://portraits:hunter22@10.0.0.5:6379/1')).toBe('redis://portraits:***@10.0.0.5:6379/1');
    expect(redactRedisUrl('redis://10.0.0.5:6379')).toBe('redis://10.0.0.5:6379');
    expect(redactRedisUrl('not a url')).not.toContain('not a url');
  });

  it("announces publicUrl's origin, else the listening address and the real port", () => {
    expect(nodeUrl(resolve({ publicUrl: 'http://192.168.1.21:8080/some/path' }), 0)).toBe('http://192.168.1.21:8080');
    expect(nodeUrl(resolve({ host: '127.0.0.1' }), 40123)).toBe('http://127.0.0.1:40123');
    expect(nodeUrl(resolve({ host: '::1' }), 40123)).toBe('http://[::1]:40123');
    // A wildcard listener announces a LAN address (or localhost on a machine without one).
    expect(nodeUrl(resolve({ host: '0.0.0.0' }), 8080)).toMatch(/^http:\/\/(\d+\.\d+\.\d+\.\d+|localhost):8080$/);
  });
});
