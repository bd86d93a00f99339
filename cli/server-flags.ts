/**
 * The server's settings as command-line flags (`portraits doctor` takes every one, as the
 * server does), described from server/config.ts itself: the type and the names a key accepts
 * from ConfigSchema, the defaults from parsing an empty configuration, and each explanation
 * from the comment above the key in the schema's source (else the README's configuration
 * table), so nothing here repeats the schema.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlagSpec, FlagTable, NameList } from './flags.js';
import { dreamNetworkNames, generatorNames } from './model-flags.js';

/** The part of a zod schema's definition this reads (zod 4's `def`). */
interface SchemaDef {
  type: string;
  innerType?: ZodLike;
  out?: ZodLike;
  format?: string;
}
interface ZodLike {
  def: SchemaDef;
  options?: readonly unknown[];
}

/** Keys that name a model: their names are read from the models folder. */
const MODEL_KEYS: Readonly<Record<string, NameList>> = { model: generatorNames, dreamModel: dreamNetworkNames };

/** The schema under its default, optional and preprocessing wrappers: what a value is checked against. */
function innermost(schema: ZodLike): ZodLike {
  let s = schema;
  for (;;) {
    const next = s.def.type === 'pipe' ? s.def.out : ['default', 'optional', 'prefault', 'nullable'].includes(s.def.type) ? s.def.innerType : undefined;
    if (!next) return s;
    s = next;
  }
}

/** How help writes a key's value: N, DIR, JSON... */
function placeholder(key: string, schema: ZodLike): string {
  if (key in MODEL_KEYS) return 'ID';
  const { type, format } = schema.def;
  if (type === 'string') return format === 'url' ? 'URL' : key.endsWith('Dir') ? 'DIR' : 'TEXT';
  const byType: Record<string, string> = { number: 'N', boolean: 'true|false', enum: 'NAME', array: 'A,B', object: 'JSON' };
  return byType[type] ?? 'VALUE';
}

/** A default as help prints it: lists comma-separated, objects as JSON, the empty string visible. */
function shownDefault(value: unknown): string {
  if (value === undefined) return 'unset';
  if (value === '') return '""';
  if (Array.isArray(value)) return value.length ? value.join(',') : 'none';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Each schema key's doc comment in server/config.ts, as one line. */
export function schemaComments(source: string): Map<string, string> {
  const comments = new Map<string, string>();
  // A comment that holds no other comment's end, directly followed by `key:`.
  for (const m of source.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(\w+):/g)) {
    comments.set(m[2]!, m[1]!.replace(/^\s*\*\s?/gm, ' ').replace(/\s+/g, ' ').trim());
  }
  return comments;
}

/** Each key's description in the README's configuration table (`| key | --flag | ENV | default | description |`), markdown removed. */
export function readmeDescriptions(readme: string): Map<string, string> {
  const descriptions = new Map<string, string>();
  for (const line of readme.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    const key = /^`(\w+)`$/.exec(cells[1] ?? '')?.[1];
    if (key && cells.length >= 7 && /^`--/.test(cells[2] ?? '')) {
      descriptions.set(key, cells[5]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '').replace(/\\\|/g, '|'));
    }
  }
  return descriptions;
}

const readText = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** Every server setting as a string flag (kebab-case, as the server takes it). */
export async function serverFlags(): Promise<FlagTable> {
  const { ConfigSchema, ENV_KEYS, ROOT_DIR, kebab } = await import('../server/config.js');
  const defaults = ConfigSchema.parse({}) as Record<string, unknown>;
  const comments = schemaComments(readText(join(ROOT_DIR, 'server', 'config.ts')));
  const readme = readmeDescriptions(readText(join(ROOT_DIR, 'README.md')));
  const envOf = new Map(Object.entries(ENV_KEYS).map(([env, key]) => [key as string, env]));
  const table: Record<string, FlagSpec> = {};
  for (const [key, field] of Object.entries(ConfigSchema.shape as unknown as Record<string, ZodLike>)) {
    const schema = innermost(field);
    const env = envOf.get(key);
    const about = comments.get(key) ?? readme.get(key) ?? `the server's "${key}" setting`;
    const names = MODEL_KEYS[key] ?? (schema.def.type === 'enum' ? (schema.options as string[]) : undefined);
    table[kebab(key)] = {
      type: 'string',
      value: placeholder(key, schema),
      default: shownDefault(defaults[key]),
      help: about,
      ...(env ? { env } : {}),
      ...(names ? { names } : {}),
    };
  }
  return table;
}
