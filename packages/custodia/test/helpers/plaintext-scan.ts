/**
 * Looks for plaintext in raw bytes (database files, WAL, dumps) in the encodings it could
 * hide in: UTF-8 as is and in other cases, the search-normalised form, UTF-16 both ways,
 * base64 and base64url at the three byte alignments, hex, and JSON escapes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeString } from '../../src/fhir/index.js';

export interface Encoded {
  /** e.g. `utf16le`, `base64@1` */
  readonly encoding: string;
  readonly bytes: Buffer;
}

const swap16 = (b: Buffer): Buffer => Buffer.from(b).swap16();

/**
 * The stable middle of the base64 text of `bytes` when they start at byte offset ≡ `pad`
 * (mod 3) in a longer stream: the characters that depend only on `bytes`.
 */
function base64Middle(bytes: Buffer, pad: number, alphabet: 'base64' | 'base64url'): string {
  const text = Buffer.concat([Buffer.alloc(pad), bytes]).toString(alphabet);
  return text.slice(Math.ceil((8 * pad) / 6), Math.floor((8 * (pad + bytes.length)) / 6));
}

/** JSON string escaping of every non-ASCII character (`\u00e9`), as some serialisers write. */
const asciiJson = (s: string): string => JSON.stringify(s).slice(1, -1).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Every encoding of `s` the scan looks for (distinct byte strings only). */
export function encodingsOf(s: string): Encoded[] {
  const out: Encoded[] = [];
  const add = (encoding: string, bytes: Buffer): void => {
    if (bytes.length > 0 && !out.some((e) => e.bytes.equals(bytes))) out.push({ encoding, bytes });
  };
  const forms: [string, string][] = [
    ['as is', s],
    ['lower', s.toLowerCase()],
    ['upper', s.toUpperCase()],
    ['normalised', normalizeString(s)],
    ['NFC', s.normalize('NFC')],
    ['NFD', s.normalize('NFD')],
  ];
  for (const [name, form] of forms) {
    const utf8 = Buffer.from(form, 'utf8');
    add(`utf8 ${name}`, utf8);
    add(`utf16le ${name}`, Buffer.from(form, 'utf16le'));
    add(`utf16be ${name}`, swap16(Buffer.from(form, 'utf16le')));
    add(`json ${name}`, Buffer.from(JSON.stringify(form).slice(1, -1), 'utf8'));
    add(`json-ascii ${name}`, Buffer.from(asciiJson(form), 'utf8'));
    add(`hex ${name}`, Buffer.from(utf8.toString('hex'), 'ascii'));
    add(`HEX ${name}`, Buffer.from(utf8.toString('hex').toUpperCase(), 'ascii'));
    for (const pad of [0, 1, 2]) {
      add(`base64@${pad} ${name}`, Buffer.from(base64Middle(utf8, pad, 'base64'), 'ascii'));
      add(`base64url@${pad} ${name}`, Buffer.from(base64Middle(utf8, pad, 'base64url'), 'ascii'));
    }
  }
  return out;
}

export interface Finding {
  readonly needle: string;
  readonly encoding: string;
  readonly where: string;
}

/** Every (needle, encoding) found in the named byte sources. */
export function scan(sources: ReadonlyMap<string, Buffer>, needles: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  for (const needle of needles) {
    for (const e of encodingsOf(needle)) {
      for (const [where, bytes] of sources) if (bytes.includes(e.bytes)) findings.push({ needle, encoding: e.encoding, where });
    }
  }
  return findings;
}

/** Every regular file under `dir` (recursively), by path. */
export function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.set(p, readFileSync(p));
    }
  };
  walk(dir);
  return out;
}
