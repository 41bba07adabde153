/**
 * NIST SP 800-63B §5.1.1.2 memorized-secret rules: length in code points after NFKC,
 * a maximum of at least 64, the shipped common/breached list, context words, repetitive
 * strings, and no composition rules. Rejections never quote the password.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { PasswordPolicy, isRepetitive, parseCommonPasswords } from '../../../src/access/index.js';
import { isCustodiaError } from '../../../src/kernel/index.js';
import { commonPasswords } from '../../../src/app/index.js';
import { COMMON } from './identity-fixtures.js';

const policy = new PasswordPolicy(COMMON);
const reason = (pw: string, username?: string): string => {
  const r = policy.check(pw, username === undefined ? {} : { username });
  return r.ok ? 'ok' : r.reason;
};

describe('length', () => {
  it('needs 12 code points, counted after NFKC', () => {
    expect(reason('abcdefghij1')).toBe('too-short');
    expect(reason('ab cd ef gh ij')).toBe('ok');
    // 11 emoji are 22 UTF-16 units but 11 code points: too short.
    expect(reason('🩺'.repeat(5) + '💉'.repeat(6))).toBe('too-short');
    expect(reason('🩺💉🫀🧠🦴🩸🧬🦷👁️🫁🩻🧪')).toBe('ok');
  });

  test.prop([fc.string({ unit: 'grapheme', maxLength: 11 })])('any password shorter than 12 code points is rejected', (pw) => {
    fc.pre([...pw.normalize('NFKC')].length < 12);
    const r = policy.check(pw);
    expect(r.ok).toBe(false);
  });

  it('accepts 128 code points, refuses 129 (the maximum is configurable but at least 64)', () => {
    const long = 'sehr langes passwort '.repeat(7).slice(0, 128);
    expect(reason(long)).toBe('ok');
    expect(reason(`${long}x`)).toBe('too-long');
    expect(() => new PasswordPolicy(COMMON, { maxLength: 63 })).toThrow(/at least 64/);
    expect(new PasswordPolicy(COMMON, { maxLength: 64 }).options.maxLength).toBe(64);
    expect(reason('x'.repeat(5000))).toBe('too-long');
  });
});

describe('NFKC normalisation', () => {
  it('normalises before checking and returns the normalised form for hashing', () => {
    // Full-width Latin and the "ﬁ" ligature become their plain forms.
    const r = policy.check('ｐａｓｓｗｏｒｄ１２３４');
    expect(r).toEqual({ ok: false, reason: 'common' });
    const ok = policy.check('ﬁne day for a walk');
    expect(ok).toEqual({ ok: true, normalized: 'fine day for a walk' });
    // Composed and decomposed accents are one password.
    const a = policy.check('café au lait noir');
    const b = policy.check('cafe\u0301 au lait noir');
    expect(a.ok && b.ok && a.normalized === b.normalized).toBe(true);
  });

  it('refuses lone surrogates, which cannot be hashed faithfully', () => {
    expect(reason('abcdefghijkl\uD800')).toBe('malformed');
  });
});

describe('common and breached passwords', () => {
  it('the shipped list is the zxcvbn-ts list (49,233 entries, at least 10,000)', () => {
    expect(commonPasswords.size).toBe(49_233);
    expect(commonPasswords.size).toBeGreaterThanOrEqual(10_000);
    for (const pw of ['123456', 'password', '1qaz2wsx3edc', 'qwertyuiop12', 'password1234']) expect(commonPasswords.has(pw)).toBe(true);
  });

  it('refuses list entries of policy length whatever their case', () => {
    const shipped = new PasswordPolicy(commonPasswords);
    for (const pw of ['1qaz2wsx3edc', 'Password1234', 'QWERTYUIOP12', 'qwerty123456', '123456qwerty']) {
      expect(shipped.check(pw)).toEqual({ ok: false, reason: 'common' });
    }
    expect(shipped.check(GOOD)).toMatchObject({ ok: true });
  });

  it('parses a list with blank lines and any case', () => {
    expect([...parseCommonPasswords('Foo\n\n  bar  \nＢＡＺ\n')]).toEqual(['foo', 'bar', 'baz']);
  });
});

const GOOD = 'correct horse battery staple';

describe('context and patterns', () => {
  it('refuses the username and the service name inside the password', () => {
    expect(reason('alice-in-wonderland', 'alice')).toBe('context');
    expect(reason('ALICE-IN-WONDERLAND', 'alice')).toBe('context');
    expect(reason('my custodia password', undefined)).toBe('context');
    // Very short usernames would forbid too much.
    expect(reason('bob the builder!', 'bob')).toBe('ok');
  });

  it('refuses repeated and sequential strings', () => {
    for (const pw of ['aaaaaaaaaaaa', 'abababababab', 'abcabcabcabc', '121212121212', 'abcdefghijklm', '123456789012', '987654321098', 'zyxwvutsrqpo']) {
      expect(reason(pw)).toBe('repetitive');
    }
    expect(isRepetitive([...'abcdabcdabce'].map((c) => c.codePointAt(0)!))).toBe(false);
  });

  it('has no composition rules: lower-case words, spaces and any script are fine', () => {
    for (const pw of [GOOD, 'allemaalkleineletters', 'пароль для больницы', '患者の記録を守るためのパスワード', '   spaces   count   ']) {
      expect(reason(pw)).toBe('ok');
    }
  });
});

describe('rejections', () => {
  // "zq" appears in no message, so a message containing the password would contain it.
  test.prop([fc.string({ maxLength: 30 }), fc.constantFrom('', 'password1234', 'aaaaaaaaaaaa', 'x'.repeat(200))])('never quote the password', (s, tail) => {
    const pw = `zq${s}${tail}`;
    try {
      policy.enforce(pw, { username: 'zq' + s });
    } catch (e) {
      expect(isCustodiaError(e, 'password-rejected')).toBe(true);
      const err = e as Error & { issues: { diagnostics: string }[] };
      const text = `${err.message} ${err.issues.map((i) => i.diagnostics).join(' ')}`;
      expect(text).not.toContain('zq');
    }
  });

  it('name the rule in the issue', () => {
    try {
      policy.enforce('short');
      expect.unreachable();
    } catch (e) {
      expect(isCustodiaError(e, 'password-rejected')).toBe(true);
      expect((e as { issues: { diagnostics: string }[] }).issues[0]?.diagnostics).toBe('too-short');
    }
  });
});
