/** Retention rules (GDPR Art. 17(3)): parsing hostile policy files, and periods in calendar years. */
import { describe, expect, it } from 'vitest';
import { parseRetentionPolicy, retainedUntil } from '../../src/app/retention-policy.js';

const policy = parseRetentionPolicy(
  JSON.stringify({
    jurisdiction: 'DE',
    rules: [
      { resourceTypes: ['*'], years: 10, basis: '§630f(3) BGB' },
      { resourceTypes: ['ImagingStudy'], years: 30, basis: '§85 StrlSchG' },
    ],
  }),
);

describe('retention policy', () => {
  it('keeps a record whole calendar years after its last update, to the day', () => {
    const at = Date.UTC(2026, 10, 29, 13, 0);
    expect(new Date(retainedUntil(policy, 'Observation', at)!.until).toISOString()).toBe('2036-11-29T13:00:00.000Z');
    expect(new Date(retainedUntil(policy, 'ImagingStudy', at)!.until).toISOString()).toBe('2056-11-29T13:00:00.000Z');
    expect(retainedUntil(policy, 'ImagingStudy', at)!.rule.basis).toBe('§85 StrlSchG');
    // 29 February: ten years on is 1 March of a common year.
    expect(new Date(retainedUntil(policy, 'Condition', Date.UTC(2028, 1, 29))!.until).toISOString().slice(0, 10)).toBe('2038-03-01');
    expect(retainedUntil(parseRetentionPolicy('{"jurisdiction":"x","rules":[]}'), 'Observation', at)).toBeUndefined();
  });

  it('refuses malformed files with a reason', () => {
    for (const [text, why] of [
      ['not json', /not JSON/],
      ['{"rules":[]}', /jurisdiction/],
      ['{"jurisdiction":"DE","rules":[{"resourceTypes":["*"],"years":0,"basis":"b"}]}', /whole number from 1 to 200/],
      ['{"jurisdiction":"DE","rules":[{"resourceTypes":["*"],"years":2.5,"basis":"b"}]}', /whole number/],
      ['{"jurisdiction":"DE","rules":[{"resourceTypes":["patient"],"years":5,"basis":"b"}]}', /resourceTypes/],
      ['{"jurisdiction":"DE","rules":[{"resourceTypes":["*"],"years":5}]}', /basis/],
    ] as const) {
      expect(() => parseRetentionPolicy(text), text).toThrow(expect.objectContaining({ code: 'config-invalid', message: expect.stringMatching(why) }));
    }
  });
});
