/**
 * What parsing a search needs to know and how it reports problems (FHIR R4 search.html
 * §3.1.1.3 "handling": `strict` rejects unknown or unsupported parameters, `lenient`
 * ignores them and says so; invalid values are errors either way).
 */
import { CustodiaError } from '../../kernel/index.js';
import type { SearchParamRegistry } from './search-param-registry.js';

export interface SearchParseContext {
  readonly registry: SearchParamRegistry;
  readonly handling: 'strict' | 'lenient';
  /** Epoch ms, for `ap` on dates. */
  readonly now: number;
  /** This server's base URL: absolute references under it are local. */
  readonly baseUrl?: string;
  /** Collects the names of ignored parameters (lenient handling). */
  readonly ignored: string[];
}

/** Quotes attacker-controlled text for a message: JSON-escaped and cut to 100 characters. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}

function error(code: 'search-invalid' | 'search-unsupported' | 'search-too-costly', param: string, message: string): CustodiaError {
  const diagnostics = `${message} (parameter ${quote(param)})`;
  return new CustodiaError(code, diagnostics, { issues: [{ diagnostics, expression: [param.slice(0, 100)] }] });
}

/** A value (or a name's structure) that cannot be parsed: `search-invalid` under any handling. */
export function invalid(param: string, message: string): CustodiaError {
  return error('search-invalid', param, message);
}

/** A request beyond `SEARCH_LIMITS`: `search-too-costly` under any handling. */
export function tooCostly(param: string, message: string): CustodiaError {
  return error('search-too-costly', param, message);
}

/**
 * An unknown parameter, modifier or unsupported feature: throws under strict handling
 * (`search-unsupported`, or `search-invalid` for what R4 does not define at all), records
 * the parameter as ignored under lenient handling.
 */
export function reject(ctx: SearchParseContext, param: string, message: string, code: 'search-unsupported' | 'search-invalid' = 'search-unsupported'): null {
  if (ctx.handling === 'strict') throw error(code, param, message);
  if (!ctx.ignored.includes(param)) ctx.ignored.push(param);
  return null;
}
