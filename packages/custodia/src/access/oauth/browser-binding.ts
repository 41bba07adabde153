/**
 * Binds a sign-in in progress to the browser that started it: a random id in an
 * HttpOnly, SameSite=Lax cookie (RFC 6265bis; `__Host-` prefixed and Secure over https),
 * whose SHA-256 the pending request stores. With the per-request CSRF token in the
 * forms (OWASP CSRF Prevention: synchronizer token) a form can only be posted by the
 * page this server rendered, in the browser it rendered it for. Lax (not Strict) lets
 * the cookie ride along when another site navigates the browser to the authorization
 * endpoint, so sign-ins in several tabs share one binding; cross-site POSTs never carry it.
 */
import { isHandle } from './secrets.js';

export function bindingCookieName(secure: boolean): string {
  return secure ? '__Host-custodia-signin' : 'custodia-signin';
}

/** The browser id from a Cookie header (attacker-controlled), if well formed. */
export function readBrowserId(cookieHeader: string | undefined, secure: boolean): string | undefined {
  if (cookieHeader === undefined || cookieHeader.length > 8192) return undefined;
  const name = bindingCookieName(secure);
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    if (isHandle(value)) return value;
  }
  return undefined;
}

/** The Set-Cookie value; a session cookie (gone when the browser closes). */
export function bindingCookie(browserId: string, secure: boolean): string {
  return `${bindingCookieName(secure)}=${browserId}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
