/** Rate limits in the configuration: parsed strictly, from options or the environment. */
import { describe, expect, it } from 'vitest';
import { parseRateLimitSpecs, resolveConfig } from '../../src/app/index.js';
import { DEFAULT_RATE_LIMITS } from '../../src/access/index.js';

const configInvalid = expect.objectContaining({ code: 'config-invalid' });

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
  });

  it('refuses what it cannot read and limits that could never admit a request', () => {
    for (const bad of ['user', 'user=50', 'users=50/200', 'user=-1/200', 'user=50/0.5', 'user=50/200/1', 'user=ten/20']) {
      expect(() => resolveConfig({ rateLimits: parseRateLimitSpecs([bad]) }), bad).toThrow(configInvalid);
    }
    expect(() => resolveConfig({ rateLimits: { user: { perSecond: 0, burst: 10 } } })).toThrow(configInvalid);
    expect(() => resolveConfig({ rateLimits: { user: { perSecond: 1, burst: 0 } } })).toThrow(configInvalid);
    expect(() => resolveConfig({ rateLimits: { maxKeys: 0 } })).toThrow(configInvalid);
  });
});
