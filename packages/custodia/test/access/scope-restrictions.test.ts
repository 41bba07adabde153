/** Scope queries (SMART 2.x finer-grained scopes) as parsed from tokens: attacker input. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { parseResourceScope } from '../../src/access/index.js';

describe('scope queries', () => {
  it('reads token restrictions: code, system|code, value lists, several parameters, percent-encoding', () => {
    expect(parseResourceScope('patient/Observation.rs?category=laboratory')).toMatchObject({ restricted: true, restrictions: [{ param: 'category', values: [{ code: 'laboratory' }] }] });
    expect(parseResourceScope('user/Observation.rs?category=http://s|lab,http://s|img&status=final')?.restrictions).toEqual([
      { param: 'category', values: [{ system: 'http://s', code: 'lab' }, { system: 'http://s', code: 'img' }] },
      { param: 'status', values: [{ code: 'final' }] },
    ]);
    expect(parseResourceScope('user/Observation.rs?category=http%3A%2F%2Fs%7Clab')?.restrictions).toEqual([{ param: 'category', values: [{ system: 'http://s', code: 'lab' }] }]);
    expect(parseResourceScope('user/Observation.rs')).toMatchObject({ restricted: false });
    expect(parseResourceScope('user/Observation.rs')?.restrictions).toBeUndefined();
  });

  it('leaves anything else restricted but unenforceable (it then grants nothing)', () => {
    for (const scope of [
      'user/Observation.rs?code:text=x',
      'user/Observation.rs?category=|lab',
      'user/Observation.rs?category=s|',
      'user/Observation.rs?category=',
      'user/Observation.rs?=lab',
      'user/Observation.rs?category=a|b|c',
      'user/Observation.rs?category=a\\,b',
      'user/Observation.rs?category=%E0%A4%A',
      `user/Observation.rs?${Array.from({ length: 9 }, (_, i) => `p${i}=x`).join('&')}`,
      `user/Observation.rs?category=${Array.from({ length: 17 }, (_, i) => `c${i}`).join(',')}`,
    ]) {
      const s = parseResourceScope(scope);
      expect(s?.restricted, scope).toBe(true);
      expect(s?.restrictions, scope).toBeUndefined();
    }
  });

  test.prop([fc.string({ maxLength: 600 })])('never throws on any query, and never reads one as unrestricted', (q) => {
    const s = parseResourceScope(`user/Observation.rs?${q}`);
    if (s !== undefined) expect(s.restricted).toBe(true);
  });
});
