/** CORS origins and rate limits in the configuration: parsed strictly, from options or the environment. */
import { describe, expect, it } from 'vitest';
import { parseCorsOrigins, parseRateLimitSpecs, parseTrustedProxies, resolveConfig } from '../../src/app/index.js';
import { DEFAULT_RATE_LIMITS } from '../../src/access/index.js';

const configInvalid = expect.objectContaining({ code: 'config-invalid' });

describe('CORS origins', () => {
  it('accepts exact https origins, and http for loopback hosts, serialised as browsers send them', () => {
    expect(parseCorsOrigins(['https://app.example.org', 'HTTPS://App.Example.ORG:443/', 'https://app.example.org:8443', 'http://localhost:3000', 'http://127.0.0.1:5173', 'http://[::1]:8080'])).toEqual([
      'https://app.example.org',
      'https://app.example.org:8443',
      'http://localhost:3000',
      'http://127.0.0.1:5173',
      'http://[::1]:8080',
    ]);
    expect(parseCorsOrigins(['https://a.example, https://b.example,,'])).toEqual(['https://a.example', 'https://b.example']);
    expect(parseCorsOrigins([])).toEqual([]);
  });

  it('refuses wildcards, null, plain http elsewhere, paths, credentials and non-URLs', () => {
    for (const bad of [
      '*',
      'https://*.example.org',
      'null',
      'NULL',
      'http://app.example.org',
      'http://192.168.1.10:3000',
      'https://app.example.org/app',
      'https://app.example.org/?x=1',
      'https://app.example.org#frag',
      'https://user:pw@app.example.org',
      'app.example.org',
      'ftp://app.example.org',
      'file:///etc/passwd',
    ]) {
      expect(() => parseCorsOrigins([bad]), bad).toThrow(configInvalid);
    }
  });

  it('comes from the option, else from CUSTODIA_CORS_ORIGINS; none by default', () => {
    const env = { CUSTODIA_CORS_ORIGINS: 'https://env.example' };
    expect(resolveConfig({}).corsOrigins).toEqual([]);
    expect(resolveConfig({}, env).corsOrigins).toEqual(['https://env.example']);
    expect(resolveConfig({ corsOrigins: ['https://flag.example'] }, env).corsOrigins).toEqual(['https://flag.example']);
    expect(() => resolveConfig({}, { CUSTODIA_CORS_ORIGINS: '*' })).toThrow(configInvalid);
  });
});

describe('trusted proxies', () => {
  it('accepts addresses and CIDR ranges of either family, from the option or CUSTODIA_TRUSTED_PROXIES; none by default', () => {
    expect(parseTrustedProxies(['10.0.0.5', '10.0.0.0/8, fd00::/8', '::1', '10.0.0.5'])).toEqual(['10.0.0.5', '10.0.0.0/8', 'fd00::/8', '::1']);
    expect(resolveConfig({}).trustedProxies).toEqual([]);
    expect(resolveConfig({}, { CUSTODIA_TRUSTED_PROXIES: '192.0.2.1' }).trustedProxies).toEqual(['192.0.2.1']);
    expect(resolveConfig({ trustedProxies: ['192.0.2.2'] }, { CUSTODIA_TRUSTED_PROXIES: '192.0.2.1' }).trustedProxies).toEqual(['192.0.2.2']);
  });

  it('refuses names, ranges that trust everyone, bad prefixes and anything else', () => {
    for (const bad of ['proxy.example', 'true', '*', '0.0.0.0/0', '::/0', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/x', '10.0.0.0/8/8', '10.0.0.256', 'loopback']) {
      expect(() => parseTrustedProxies([bad]), bad).toThrow(configInvalid);
    }
  });
});

describe('FHIR limits', () => {
  it('takes CUSTODIA_MAX_INDEX_ROWS under explicit limits, and refuses anything but a positive integer', () => {
    expect(resolveConfig({}).limits.maxIndexRows).toBe(50_000);
    expect(resolveConfig({}, { CUSTODIA_MAX_INDEX_ROWS: '200000' }).limits.maxIndexRows).toBe(200_000);
    expect(resolveConfig({ limits: { maxIndexRows: 7 } }, { CUSTODIA_MAX_INDEX_ROWS: '200000' }).limits.maxIndexRows).toBe(7);
    for (const bad of ['0', '-1', '1e6', 'many', '12.5', '9999999999']) {
      expect(() => resolveConfig({}, { CUSTODIA_MAX_INDEX_ROWS: bad }), bad).toThrow(configInvalid);
    }
  });
});

describe('body limit', () => {
  it('takes a size in bytes, KiB, MiB or GiB from the option or CUSTODIA_BODY_LIMIT, between 64 KiB and 1 GiB', () => {
    expect(resolveConfig({}).bodyLimitBytes).toBe(32 * 1024 * 1024);
    expect(resolveConfig({}, { CUSTODIA_BODY_LIMIT: '4MiB' }).bodyLimitBytes).toBe(4 * 1024 * 1024);
    expect(resolveConfig({ bodyLimitBytes: '512kib' }, { CUSTODIA_BODY_LIMIT: '4MiB' }).bodyLimitBytes).toBe(512 * 1024);
    expect(resolveConfig({ bodyLimitBytes: '1048576' }).bodyLimitBytes).toBe(1024 * 1024);
    expect(resolveConfig({ bodyLimitBytes: '1GiB' }).bodyLimitBytes).toBe(1024 ** 3);
    for (const bad of ['0', '1KiB', '65535', '2GiB', '4 MB', '4M', '1e6', '-1', 'lots', '4.5MiB', '99999999999']) {
      expect(() => resolveConfig({ bodyLimitBytes: bad }), bad).toThrow(configInvalid);
    }
    expect(() => resolveConfig({}, { CUSTODIA_BODY_LIMIT: 'huge' })).toThrow(configInvalid);
  });
});

describe('search timeout', () => {
  it('takes whole seconds from 1 to 600 from the option or CUSTODIA_SEARCH_TIMEOUT (default 10)', () => {
    expect(resolveConfig({}).searchTimeoutMs).toBe(10_000);
    expect(resolveConfig({}, { CUSTODIA_SEARCH_TIMEOUT: '30' }).searchTimeoutMs).toBe(30_000);
    expect(resolveConfig({ searchTimeoutSeconds: '2' }, { CUSTODIA_SEARCH_TIMEOUT: '30' }).searchTimeoutMs).toBe(2_000);
    expect(resolveConfig({ searchTimeoutSeconds: 600 }).searchTimeoutMs).toBe(600_000);
    for (const bad of ['0', '601', '-1', '1.5', '1e2', '10s', 'forever', '', ' ', 0.5, 1000]) {
      expect(() => resolveConfig({ searchTimeoutSeconds: bad }), String(bad)).toThrow(configInvalid);
    }
    expect(() => resolveConfig({}, { CUSTODIA_SEARCH_TIMEOUT: 'never' })).toThrow(configInvalid);
  });
});

describe('answer floor', () => {
  it('takes whole milliseconds from 0 (off) to 1000 from the option or CUSTODIA_ANSWER_FLOOR (default 25)', () => {
    expect(resolveConfig({}).answerFloorMs).toBe(25);
    expect(resolveConfig({}, { CUSTODIA_ANSWER_FLOOR: '40' }).answerFloorMs).toBe(40);
    expect(resolveConfig({ answerFloorMs: '0' }, { CUSTODIA_ANSWER_FLOOR: '40' }).answerFloorMs).toBe(0);
    expect(resolveConfig({ answerFloorMs: 1000 }).answerFloorMs).toBe(1000);
    for (const bad of ['1001', '-1', '2.5', '1e2', '25ms', 'on', ' ', -1, 0.5, 1001, Number.NaN]) {
      expect(() => resolveConfig({ answerFloorMs: bad }), String(bad)).toThrow(configInvalid);
    }
    expect(() => resolveConfig({}, { CUSTODIA_ANSWER_FLOOR: 'always' })).toThrow(configInvalid);
  });
});

describe('rate limits', () => {
  it('reads <kind>=<per second>/<burst> over the defaults', () => {
    expect(parseRateLimitSpecs(['user=20/100', 'token=0.5/5,client=1000/4000'])).toEqual({
      user: { perSecond: 20, burst: 100 },
      token: { perSecond: 0.5, burst: 5 },
      client: { perSecond: 1000, burst: 4000 },
    });
    const config = resolveConfig({ rateLimits: parseRateLimitSpecs(['user=20/100']) });
    expect(config.rateLimits).toEqual({ ...DEFAULT_RATE_LIMITS, user: { perSecond: 20, burst: 100 } });
    expect(resolveConfig({}).rateLimits).toEqual(DEFAULT_RATE_LIMITS);
    expect(resolveConfig({}, { CUSTODIA_RATE_LIMITS: 'client=10/20' }).rateLimits.client).toEqual({ perSecond: 10, burst: 20 });
    expect(resolveConfig({}, { CUSTODIA_RATE_LIMITS: 'logout=0.2/5' }).rateLimits.logout).toEqual({ perSecond: 0.2, burst: 5 });
    expect(resolveConfig({}, { CUSTODIA_RATE_LIMITS: 'unauthenticated=1/30' }).rateLimits.unauthenticated).toEqual({ perSecond: 1, burst: 30 });
    expect(resolveConfig({ rateLimits: parseRateLimitSpecs(['authorize=0.5/10']) }).rateLimits.authorize).toEqual({ perSecond: 0.5, burst: 10 });
    expect(() => resolveConfig({ rateLimits: { authorize: { perSecond: 1, burst: 0 } } })).toThrow(configInvalid);
  });

  it('refuses what it cannot read and limits that could never admit a request', () => {
    for (const bad of ['user', 'user=50', 'users=50/200', 'user=-1/200', 'user=50/0.5', 'user=50/200/1', 'user=ten/20']) {
      expect(() => resolveConfig({ rateLimits: parseRateLimitSpecs([bad]) }), bad).toThrow(configInvalid);
    }
    expect(() => resolveConfig({ rateLimits: { user: { perSecond: 0, burst: 10 } } })).toThrow(configInvalid);
    expect(() => resolveConfig({ rateLimits: { user: { perSecond: 1, burst: 0 } } })).toThrow(configInvalid);
    expect(() => resolveConfig({ rateLimits: { logout: { perSecond: 0, burst: 10 } } })).toThrow(configInvalid);
    expect(() => resolveConfig({ rateLimits: { maxKeys: 0 } })).toThrow(configInvalid);
  });
});
