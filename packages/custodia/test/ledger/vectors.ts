/**
 * Loads the committed transparency-dev/merkle vectors (test/fixtures/merkle, see its
 * PROVENANCE.md). Sizes and indexes are uint64 in the files; one is 2^64 − 1, which
 * JSON.parse would round to a different number, so large integers are read as BigInt and
 * passed on as the (unsafe) number they round to, which the code must refuse.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/merkle');

function files(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? files(p) : p.endsWith('.json') ? [p] : [];
    });
}

function parse(text: string): Record<string, unknown> {
  const quoted = text.replace(/("(?:leafIdx|treeSize|size1|size2)"\s*:\s*)(\d{16,})/g, '$1"$2"');
  return JSON.parse(quoted, (key, value) =>
    ['leafIdx', 'treeSize', 'size1', 'size2'].includes(key) && typeof value === 'string' ? Number(BigInt(value)) : value,
  ) as Record<string, unknown>;
}

const b64 = (s: unknown): Buffer => Buffer.from(s as string, 'base64');
const b64s = (a: unknown): Buffer[] => ((a as string[] | null) ?? []).map(b64);

export interface InclusionVector {
  file: string;
  desc: string;
  wantErr: boolean;
  leafIdx: number;
  treeSize: number;
  root: Buffer;
  leafHash: Buffer;
  proof: Buffer[];
}

export interface ConsistencyVector {
  file: string;
  desc: string;
  wantErr: boolean;
  size1: number;
  size2: number;
  root1: Buffer;
  root2: Buffer;
  proof: Buffer[];
}

const base = join(FIXTURES, 'transparency-dev');

export function inclusionVectors(): InclusionVector[] {
  return files(join(base, 'inclusion')).map((p) => {
    const v = parse(readFileSync(p, 'utf8'));
    return {
      file: relative(base, p),
      desc: v['desc'] as string,
      wantErr: v['wantErr'] as boolean,
      leafIdx: v['leafIdx'] as number,
      treeSize: v['treeSize'] as number,
      root: b64(v['root']),
      leafHash: b64(v['leafHash']),
      proof: b64s(v['proof']),
    };
  });
}

export function consistencyVectors(): ConsistencyVector[] {
  return files(join(base, 'consistency')).map((p) => {
    const v = parse(readFileSync(p, 'utf8'));
    return {
      file: relative(base, p),
      desc: v['desc'] as string,
      wantErr: v['wantErr'] as boolean,
      size1: v['size1'] as number,
      size2: v['size2'] as number,
      root1: b64(v['root1']),
      root2: b64(v['root2']),
      proof: b64s(v['proof']),
    };
  });
}

/** The RFC 6962 reference tree: eight leaf inputs and the roots of sizes 0 to 8. */
export function referenceTree(): { leafInputs: Buffer[]; roots: Buffer[] } {
  const v = JSON.parse(readFileSync(join(FIXTURES, 'rfc6962-reference-tree.json'), 'utf8')) as {
    leafInputsHex: string[];
    rootHashesHexByTreeSize: Record<string, string>;
  };
  return {
    leafInputs: v.leafInputsHex.map((h) => Buffer.from(h, 'hex')),
    roots: Array.from({ length: v.leafInputsHex.length + 1 }, (_, n) => Buffer.from(v.rootHashesHexByTreeSize[String(n)]!, 'hex')),
  };
}
