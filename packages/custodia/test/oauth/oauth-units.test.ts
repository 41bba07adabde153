/** The pure parts of the authorization server: PKCE, scope grants, HTML escaping, pages, parameters. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consentPage,
  describeScope,
  escapeHtml,
  errorPage,
  grantScopes,
  isCovered,
  layout,
  loginPage,
  pageHeaders,
  patientPage,
  RequestParams,
  redirectUriMatches,
  verifyCodeVerifier,
  PAGE_STYLE_HASH,
} from '../../src/access/index.js';

describe('PKCE (RFC 7636)', () => {
  // RFC 7636 Appendix B.
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

  it('matches the RFC 7636 example and nothing else', () => {
    expect(createHash('sha256').update(verifier).digest('base64url')).toBe(challenge);
    expect(verifyCodeVerifier(verifier, challenge)).toBe(true);
    expect(verifyCodeVerifier(`${verifier.slice(0, -1)}A`, challenge)).toBe(false);
    // plain: the verifier as the challenge never matches.
    expect(verifyCodeVerifier(challenge, challenge)).toBe(false);
    expect(verifyCodeVerifier('short', createHash('sha256').update('short').digest('base64url'))).toBe(false);
    expect(verifyCodeVerifier(`${verifier}!`, challenge)).toBe(false);
  });
});

describe('scope grants', () => {
  it('covers narrower resource scopes by wildcard type and permission subsets', () => {
    expect(isCovered('patient/Observation.rs', ['patient/*.rs'])).toBe(true);
    expect(isCovered('patient/Observation.read', ['patient/*.rs'])).toBe(true);
    expect(isCovered('patient/Observation.r', ['patient/Observation.rs'])).toBe(true);
    expect(isCovered('patient/Observation.c', ['patient/*.rs'])).toBe(false);
    expect(isCovered('user/Observation.rs', ['patient/*.rs'])).toBe(false);
    expect(isCovered('patient/Observation.rs?category=laboratory', ['patient/*.rs'])).toBe(true);
    expect(isCovered('patient/Observation.rs', ['patient/Observation.rs?category=laboratory'])).toBe(false);
    expect(isCovered('launch/patient', ['launch'])).toBe(false);
  });

  it('keeps system/ scopes to client credentials and the rest to the code flow', () => {
    const registered = 'openid launch/patient patient/*.rs system/*.rs';
    expect(grantScopes(['openid', 'patient/Patient.rs', 'system/Patient.rs', 'made-up'], registered, 'authorization_code')).toEqual(['openid', 'patient/Patient.rs']);
    expect(grantScopes(['openid', 'system/Patient.rs'], registered, 'client_credentials')).toEqual(['system/Patient.rs']);
    expect(() => grantScopes(['user/Patient.rs'], registered, 'authorization_code')).toThrow(/None of the requested scopes/);
  });

  it('describes scopes in words', () => {
    expect(describeScope('patient/Observation.rs')).toBe('Read, search Observation records of the selected patient');
    expect(describeScope('user/*.cruds')).toBe('Create, read, update, delete, search all kinds of records that you may access');
    expect(describeScope('offline_access')).toMatch(/until you revoke it/);
  });
});

describe('redirect URI matching (RFC 6749 §3.1.2.3, RFC 8252 §7.3)', () => {
  it('compares as strings, except the port of a loopback IP literal', () => {
    expect(redirectUriMatches('https://app.example/cb', 'https://app.example/cb')).toBe(true);
    expect(redirectUriMatches('https://app.example/cb', 'https://app.example/cb/')).toBe(false);
    expect(redirectUriMatches('https://app.example/cb', 'https://app.example:444/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.1:53124/callback')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:8765/callback', 'http://127.0.0.1:53124/callback')).toBe(true);
    expect(redirectUriMatches('http://[::1]/callback', 'http://[::1]:4000/callback')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.1:53124/other')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.1:53124/callback?x=1')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://localhost:53124/callback')).toBe(false);
    expect(redirectUriMatches('http://localhost/callback', 'http://localhost:53124/callback')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.2:53124/callback')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'https://127.0.0.1:53124/callback')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://user@127.0.0.1:53124/callback')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.1:53124/callback#frag')).toBe(false);
  });
});

describe('request parameters', () => {
  it('treats empty values as absent and repeated names as unusable (RFC 6749 §3.1)', () => {
    const p = new RequestParams([
      ['a', '1'],
      ['b', ''],
      ['c', '1'],
      ['c', '2'],
    ]);
    expect(p.get('a')).toBe('1');
    expect(p.get('b')).toBeUndefined();
    expect(p.get('c')).toBeUndefined();
    expect(p.repeated('c')).toBe(true);
    expect(p.anyRepeated).toBe(true);
  });
});

describe('pages', () => {
  const binding = { request: 'r'.repeat(43), csrf: 'c'.repeat(43), step: 'login' as const };
  const evil = `"><script>alert(1)</script><img src=x onerror=alert(1)>'\``;

  it('escapes every value', () => {
    expect(escapeHtml(evil)).not.toMatch(/[<>"'`]/);
    const pages = [
      loginPage({ binding, action: '/oauth/interaction', clientName: evil, error: evil, username: evil }),
      consentPage({ binding: { ...binding, step: 'consent' }, action: '/oauth/interaction', clientName: evil, username: evil, scopes: [evil, 'patient/*.rs'] }),
      patientPage({ binding: { ...binding, step: 'patient' }, action: '/oauth/interaction', query: evil, results: [{ id: evil, name: evil, birthDate: evil, identifier: evil }] }),
      errorPage({ title: evil, message: evil }),
    ];
    for (const p of pages) {
      const html = layout(p);
      expect(html).not.toContain('<script');
      expect(html).not.toContain('<img');
      expect(html).not.toMatch(/onerror=/);
      expect(html).toContain('&lt;script&gt;');
    }
  });

  it('allows its one inline style by hash, and forms to post only here (and to the client on redirect)', () => {
    const html = layout(errorPage({ title: 't', message: 'm' }));
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(PAGE_STYLE_HASH).toBe(`'sha256-${createHash('sha256').update(css).digest('base64')}'`);
    expect(pageHeaders(['com.example.app:'])['content-security-policy']).toBe(
      `default-src 'none'; style-src ${PAGE_STYLE_HASH}; form-action 'self' com.example.app:; frame-ancestors 'none'; base-uri 'none'`,
    );
  });
});
