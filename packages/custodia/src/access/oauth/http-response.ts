/**
 * HTTP-neutral responses of the authorization server: the server adapter copies status,
 * headers and body as they are. JSON answers carry RFC 6749 §5.1's `Cache-Control:
 * no-store` and `Pragma: no-cache`.
 */
import { retryAfterSeconds } from '../../kernel/index.js';
import type { OAuthError } from './oauth-error.js';
import { layout, pageHeaders, type PageContent } from './pages.js';

export interface OAuthHttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): OAuthHttpResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE, ...headers }, body: body === undefined ? '' : JSON.stringify(body) };
}

/** RFC 6749 §5.2 (with RFC 6750 §3 for bearer-token endpoints). */
export function oauthErrorResponse(e: OAuthError): OAuthHttpResponse {
  const headers: Record<string, string> = {};
  if (e.basicChallenge) headers['www-authenticate'] = 'Basic realm="custodia"';
  if (e.error === 'invalid_token' || e.error === 'insufficient_scope') headers['www-authenticate'] = `Bearer realm="custodia", error="${e.error}"`;
  return jsonResponse(e.status, e.toJSON(), headers);
}

/** RFC 6585 §4: 429 Too Many Requests, with RFC 9110 §10.2.3 Retry-After in seconds. */
const tooManyRequests = (retryAfterMs: number) => ({ status: 429, headers: { 'retry-after': retryAfterSeconds(retryAfterMs) } }) as const;

/**
 * A client over its token-request budget. RFC 6749 §5.2 has no code for this; the status
 * and Retry-After carry the meaning, and `temporarily_unavailable` (RFC 6749 §4.1.2.1) is
 * the nearest registered code.
 */
export function rateLimitedResponse(retryAfterMs: number): OAuthHttpResponse {
  const { status, headers } = tooManyRequests(retryAfterMs);
  return jsonResponse(status, { error: 'temporarily_unavailable', error_description: 'Too many token requests from this client; retry after the time in Retry-After' }, headers);
}

/** The same refusal where a browser is the caller (the end-session endpoint): a page to read instead of JSON. */
export function rateLimitedPage(retryAfterMs: number, content: PageContent): OAuthHttpResponse {
  const { status, headers } = tooManyRequests(retryAfterMs);
  const page = pageResponse(status, content);
  return { ...page, headers: { ...page.headers, ...headers } };
}

export function pageResponse(status: number, content: PageContent, options: { formTargets?: readonly string[]; cookie?: string } = {}): OAuthHttpResponse {
  return {
    status,
    headers: { ...pageHeaders(options.formTargets ?? []), ...NO_STORE, ...(options.cookie === undefined ? {} : { 'set-cookie': options.cookie }) },
    body: layout(content),
  };
}

/** 302 after a GET, 303 after a form POST (RFC 9110 §15.4.4: the client then GETs the location). */
export function redirectResponse(status: 302 | 303, location: string, cookie?: string): OAuthHttpResponse {
  return { status, headers: { location, ...NO_STORE, ...(cookie === undefined ? {} : { 'set-cookie': cookie }) }, body: '' };
}
