/**
 * RFC 8785 (JSON Canonicalization Scheme) serialisation, fast. JCS is ECMAScript's own
 * JSON serialisation (§3.2.2: JSON.stringify's strings and numbers) with object members
 * sorted by their names' UTF-16 code units (§3.2.3). So a copy of the value with its
 * members inserted in that order, handed to the native JSON.stringify once, is the
 * canonical form — several times faster than building the text in script, which the
 * audit writer does for every audited request.
 *
 * JSON.stringify does not keep insertion order for array-index names ("0", "17"), and
 * calls toJSON methods: values with either go to the `canonicalize` package (the
 * reference implementation this is property-tested against, test/ledger/canonical-json).
 * Like it, this refuses what JCS cannot represent: NaN, ±Infinity, lone surrogates.
 */
import canonicalize from 'canonicalize';
import { CustodiaError } from '../kernel/index.js';

/** Names JSON.stringify orders numerically, before the others (ECMA-262 array indexes). */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

/** A surrogate code unit not in a pair (in `u` mode a pair is one code point, never Cs). */
const LONE_SURROGATE = /\p{Cs}/u;

/** Thrown inside {@link sorted} when the fast path does not apply. */
const SLOW = Symbol('slow');

const refuse = (why: string): CustodiaError => new CustodiaError('internal', `A value has no RFC 8785 form: ${why}`);

function sorted(v: unknown): unknown {
  switch (typeof v) {
    case 'string':
      if (LONE_SURROGATE.test(v)) throw refuse('lone surrogate');
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw refuse('not a finite number');
      return v;
    case 'object': {
      if (v === null) return v;
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') throw SLOW;
      if (Array.isArray(v)) return v.map((x: unknown) => (x === undefined || typeof x === 'symbol' ? null : sorted(x)));
      const src = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(src).sort()) {
        const x = src[k];
        if (x === undefined || typeof x === 'symbol') continue;
        if (ARRAY_INDEX.test(k)) throw SLOW;
        if (LONE_SURROGATE.test(k)) throw refuse('lone surrogate');
        out[k] = sorted(x);
      }
      return out;
    }
    default:
      return v;
  }
}

/** The RFC 8785 canonical JSON text of `value`; undefined for a value JSON cannot represent (as JSON.stringify). */
export function canonicalJson(value: unknown): string | undefined {
  let copy: unknown;
  try {
    copy = sorted(value);
  } catch (e) {
    if (e !== SLOW) throw e;
    try {
      return canonicalize(value);
    } catch (cause) {
      throw new CustodiaError('internal', 'A value has no RFC 8785 form', { cause });
    }
  }
  return JSON.stringify(copy);
}
