/**
 * The import rules of docs/architecture.md, enforced: dependencies point one way
 * (kernel → crypto/fhir → ledger/access → detect/intel/compliance → store/ingest → app →
 * server/cli), modules reach each other only through their index.ts, and drivers and
 * frameworks stay in the adapters that own them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

const MODULES = ['kernel', 'crypto', 'fhir', 'ledger', 'access', 'detect', 'intel', 'compliance', 'store', 'ingest', 'onnx', 'app', 'server', 'cli'] as const;
type Module = (typeof MODULES)[number];

const DOMAIN: Module[] = ['kernel', 'crypto', 'fhir', 'ledger', 'access', 'detect', 'intel', 'compliance'];

/** Which internal modules each module may import. */
const MAY_IMPORT: Record<Module, readonly Module[]> = {
  kernel: [],
  crypto: ['kernel'],
  fhir: ['kernel'],
  ledger: ['kernel', 'crypto'],
  access: ['kernel', 'crypto', 'fhir'],
  detect: ['kernel', 'fhir'],
  intel: ['kernel', 'crypto', 'fhir', 'ledger', 'detect'],
  compliance: ['kernel', 'crypto', 'fhir', 'ledger', 'detect'],
  store: DOMAIN,
  ingest: DOMAIN,
  // The ONNX scoring adapter implements detect's Scorer port; it needs nothing else.
  onnx: ['kernel', 'detect'],
  app: [...DOMAIN, 'store', 'ingest', 'onnx'],
  server: ['app'],
  cli: ['app', 'server'],
};

/** Which npm packages each module may import (node built-ins are always allowed). */
const PACKAGES: Record<Module, readonly string[]> = {
  kernel: [],
  crypto: ['jose'],
  fhir: ['fhirpath', '@types/fhir', 'rfc6902'],
  ledger: ['canonicalize'],
  access: ['jose', 'qrcode'],
  detect: [],
  intel: [],
  compliance: [],
  store: ['kysely', 'better-sqlite3', 'pg', 'jose', 'pkcs11js'],
  ingest: ['mqtt', '@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/kv'],
  // onnxruntime-node is optional and loaded by a computed import(): the test below checks where it is named.
  onnx: [],
  app: ['pino', '@peculiar/x509', 'reflect-metadata'],
  server: ['fastify', '@fastify/helmet', '@fastify/cors'],
  cli: ['commander', '@commander-js/extra-typings', 'cli-progress', 'openid-client'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Import specifiers of a file: static imports/exports (type-only too) and dynamic import(). */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\n;])\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\n;])\s*import\s*['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

function moduleOf(file: string): Module {
  const top = relative(SRC, file).split(sep)[0] as Module;
  if (!MODULES.includes(top)) throw new Error(`${file} is outside the known modules`);
  return top;
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

export function violations(): string[] {
  const problems: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = moduleOf(file);
    const rel = relative(SRC, file);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        const to = moduleOf(target);
        if (to === from) continue;
        if (!MAY_IMPORT[from].includes(to)) problems.push(`${rel}: ${from} may not import ${to} (${spec})`);
        if (relative(join(SRC, to), target).replace(/\\/g, '/') !== 'index.js') problems.push(`${rel}: import ${to} through its index.ts, not ${spec}`);
      } else if (!BUILTINS.has(spec) && !BUILTINS.has(packageName(spec))) {
        const pkg = packageName(spec);
        if (!PACKAGES[from].includes(pkg)) problems.push(`${rel}: ${from} may not import the package ${pkg}`);
      }
    }
  }
  return problems;
}

describe('architecture', () => {
  it('every source file sits in a known module', () => {
    for (const f of sourceFiles(SRC)) expect(MODULES).toContain(moduleOf(f));
  });

  it('imports follow the dependency rules', () => {
    expect(violations()).toEqual([]);
  });

  it('only the onnx adapter names the optional ONNX runtime (it is loaded by a computed import the scanner cannot see)', () => {
    const naming = sourceFiles(SRC).filter((f) => readFileSync(f, 'utf8').includes("'onnxruntime-node'")).map((f) => relative(SRC, f).replace(/\\/g, '/'));
    expect(naming).toEqual(['onnx/onnx-runtime.ts']);
  });

  it('the import scanner sees every form of import', () => {
    const text = [
      "import a from 'fastify';",
      "import type { B } from '../store/index.js';",
      "export { c } from './c.js';",
      "const d = await import('pg');",
      "import 'better-sqlite3';",
      'import {\n  e,\n  f,\n} from "kysely";',
    ].join('\n');
    expect(importsOf(text).sort()).toEqual(['../store/index.js', './c.js', 'better-sqlite3', 'fastify', 'kysely', 'pg']);
  });
});
