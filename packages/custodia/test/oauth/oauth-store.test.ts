/**
 * The OAuthStore adapter on every dialect: single use under concurrency (codes, refresh
 * tokens, pending-request steps, assertion ids), family revocation reaching the access
 * tokens issued under a grant, and expiry housekeeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type VaultDatabase } from '../../src/store/index.js';
import type { CodeRecord, GrantRecord, PendingAuthorization } from '../../src/access/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';

const T0 = Date.UTC(2026, 0, 1);
let n = 0;
const id = (p: string) => `${p}-${++n}`;

function grant(over: Partial<GrantRecord> = {}): GrantRecord {
  return { id: id('g'), clientId: 'app', context: { userId: 'u1', scope: 'openid offline_access', authTime: T0 / 1000, needPatientBanner: true, patient: 'p1' }, createdAt: T0, expiresAt: T0 + 3600_000, ...over };
}

function code(g: GrantRecord, over: Partial<CodeRecord> = {}): CodeRecord {
  return { codeHash: id('c'), grantId: g.id, clientId: 'app', redirectUri: 'https://app.example/cb', codeChallenge: 'x'.repeat(43), expiresAt: T0 + 60_000, ...over };
}

function pending(over: Partial<PendingAuthorization> = {}): PendingAuthorization {
  return {
    handleHash: id('h'),
    browserHash: 'b',
    csrfHash: 'c',
    request: { clientId: 'app', redirectUri: 'https://app.example/cb', state: 's', scopes: ['openid'], codeChallenge: 'x'.repeat(43) },
    stage: 'login',
    version: 0,
    attempts: 0,
    createdAt: T0,
    expiresAt: T0 + 600_000,
    ...over,
  };
}

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`OAuthStore on ${name}`, () => {
    let db: TestDatabase;
    let vdb: VaultDatabase;

    beforeAll(async () => {
      db = await createTestDatabase(name);
      vdb = await openDatabase(db.options);
    });

    afterAll(async () => {
      await vdb?.close();
      await db?.cleanup();
    });

    async function issued(g: GrantRecord, c: CodeRecord): Promise<void> {
      const p = pending();
      await vdb.oauth.insertPending(p);
      expect(await vdb.oauth.completePending(p.handleHash, 0, g, c)).toBe(true);
    }

    it('moves a pending sign-in on by compare-and-set, keeping what an update leaves out', async () => {
      const p = pending();
      await vdb.oauth.insertPending(p);
      expect(await vdb.oauth.findPending(p.handleHash, T0)).toEqual(p);
      const results = await Promise.all([1, 2, 3].map(() => vdb.oauth.updatePending(p.handleHash, 0, { stage: 'consent', userId: 'u1', authTime: 42 })));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await vdb.oauth.updatePending(p.handleHash, 1, { stage: 'patient', candidates: ['a', 'b'], countAttempt: true })).toBe(true);
      expect(await vdb.oauth.findPending(p.handleHash, T0)).toMatchObject({ stage: 'patient', version: 2, userId: 'u1', authTime: 42, candidates: ['a', 'b'], attempts: 1 });
      expect(await vdb.oauth.findPending(p.handleHash, T0 + 600_000)).toBeUndefined();
      // Completing needs the current version, once.
      const g = grant();
      expect(await vdb.oauth.completePending(p.handleHash, 1, g, code(g))).toBe(false);
      expect(await vdb.oauth.completePending(p.handleHash, 2, g, code(g))).toBe(true);
      expect(await vdb.oauth.findPending(p.handleHash, T0)).toBeUndefined();
      expect(await vdb.oauth.findGrant(g.id)).toEqual(g);
    });

    it('redeems a code once under concurrency; the loser revokes the grant and what was issued', async () => {
      const g = grant();
      const c = code(g);
      await issued(g, c);
      expect(await vdb.oauth.findCode(c.codeHash)).toEqual(c);
      const outcomes = await Promise.all(['j-a', 'j-b'].map((jti) => vdb.oauth.redeemCode(c.codeHash, T0 + 1000, { accessTokenId: jti, accessExpiresAt: T0 + 900_000 })));
      expect(outcomes.sort()).toEqual(['issued', 'reused']);
      expect((await vdb.oauth.findGrant(g.id))?.revokedAt).toBe(T0 + 1000);
      const winner = outcomes[0] === 'issued' ? 'j-a' : 'j-b';
      expect(await vdb.oauth.isRevoked(winner)).toBe(true);
      expect((await vdb.oauth.findCode(c.codeHash))?.usedAt).toBeDefined();
    });

    it('refuses expired codes and burns codes of a failed exchange', async () => {
      const g = grant();
      const c = code(g);
      await issued(g, c);
      expect(await vdb.oauth.redeemCode(c.codeHash, T0 + 60_000, { accessTokenId: id('j'), accessExpiresAt: T0 + 900_000 })).toBe('invalid');
      const g2 = grant();
      const c2 = code(g2);
      await issued(g2, c2);
      expect(await vdb.oauth.redeemCode(c2.codeHash, T0, undefined)).toBe('invalid');
      expect(await vdb.oauth.redeemCode(c2.codeHash, T0, { accessTokenId: id('j'), accessExpiresAt: T0 + 900_000 })).toBe('reused');
      expect(await vdb.oauth.redeemCode('unknown', T0, undefined)).toBe('invalid');
    });

    it('rotates a refresh token once under concurrency; reuse revokes the family and its live access tokens', async () => {
      const g = grant();
      const c = code(g);
      await issued(g, c);
      expect(await vdb.oauth.redeemCode(c.codeHash, T0, { accessTokenId: 'fam-a0', accessExpiresAt: T0 + 900_000, refresh: { tokenHash: 'r0', expiresAt: T0 + 3600_000 } })).toBe('issued');
      expect(await vdb.oauth.findRefreshToken('r0')).toEqual({ tokenHash: 'r0', grantId: g.id, createdAt: T0, expiresAt: T0 + 3600_000 });
      const outcomes = await Promise.all(['r1', 'r2'].map((next, i) => vdb.oauth.rotateRefreshToken('r0', T0 + 10, { accessTokenId: `fam-a${i + 1}`, accessExpiresAt: T0 + 900_000, refresh: { tokenHash: next, expiresAt: T0 + 3600_000 } })));
      expect(outcomes.sort()).toEqual(['issued', 'reused']);
      expect((await vdb.oauth.findGrant(g.id))?.revokedAt).toBeDefined();
      for (const jti of ['fam-a0', outcomes[0] === 'issued' ? 'fam-a1' : 'fam-a2']) expect(await vdb.oauth.isRevoked(jti)).toBe(true);
      const next = (await vdb.oauth.findRefreshToken('r1')) ?? (await vdb.oauth.findRefreshToken('r2'));
      expect(await vdb.oauth.rotateRefreshToken(next!.tokenHash, T0 + 20, { accessTokenId: 'fam-a3', accessExpiresAt: T0 + 900_000 })).toBe('invalid');
    });

    it('revokes only live access tokens of a grant, and keeps a revocation list', async () => {
      const g = grant();
      const c = code(g);
      await issued(g, c);
      await vdb.oauth.redeemCode(c.codeHash, T0, { accessTokenId: 'old-token', accessExpiresAt: T0 + 10 });
      await vdb.oauth.revokeGrant(g.id, T0 + 20);
      expect(await vdb.oauth.isRevoked('old-token')).toBe(false);
      await vdb.oauth.revokeAccessToken('single', T0 + 900_000);
      await vdb.oauth.revokeAccessToken('single', T0 + 900_000);
      expect(await vdb.oauth.isRevoked('single')).toBe(true);
    });

    it("ends every live grant a user gave one client (a sign-out), and no one else's", async () => {
      const ctx = (userId: string) => ({ ...grant().context, userId });
      const mine = [grant({ context: ctx('u-out') }), grant({ context: { ...ctx('u-out'), patient: 'p2' } })];
      const over = [grant({ context: ctx('u-out'), expiresAt: T0 + 5 }), grant({ context: ctx('u-out') })];
      const others = [grant({ context: ctx('u-out'), clientId: 'other-app' }), grant({ context: ctx('u-else') })];
      const codes = new Map([...mine, ...over, ...others].map((g) => [g.id, code(g, { clientId: g.clientId })]));
      for (const g of [...mine, ...over, ...others]) await issued(g, codes.get(g.id)!);
      await vdb.oauth.revokeGrant(over[1]!.id, T0 + 1);
      await vdb.oauth.redeemCode(codes.get(mine[0]!.id)!.codeHash, T0, { accessTokenId: 'out-a', accessExpiresAt: T0 + 900_000 });
      await vdb.oauth.redeemCode(codes.get(others[0]!.id)!.codeHash, T0, { accessTokenId: 'other-a', accessExpiresAt: T0 + 900_000 });
      const ended = await vdb.oauth.revokeUserGrants('u-out', 'app', T0 + 10);
      expect(ended.map((g) => g.id).sort()).toEqual(mine.map((g) => g.id).sort());
      expect(ended.map((g) => g.context.patient).sort()).toEqual(['p1', 'p2']);
      for (const g of mine) expect((await vdb.oauth.findGrant(g.id))?.revokedAt).toBe(T0 + 10);
      expect((await vdb.oauth.findGrant(over[1]!.id))?.revokedAt).toBe(T0 + 1);
      for (const g of others) expect((await vdb.oauth.findGrant(g.id))?.revokedAt).toBeUndefined();
      expect(await vdb.oauth.isRevoked('out-a')).toBe(true);
      expect(await vdb.oauth.isRevoked('other-a')).toBe(false);
      expect(await vdb.oauth.revokeUserGrants('u-out', 'app', T0 + 20)).toEqual([]);
    });

    it('records issued tokens, and keeps each record a day past its expiry', async () => {
      await vdb.oauth.recordIssuedToken('issued-1', T0 + 900_000);
      await vdb.oauth.recordIssuedToken('issued-2', T0 + 2 * 86_400_000);
      expect(await vdb.oauth.issuedTokenExpiry('issued-1')).toBe(T0 + 900_000);
      expect(await vdb.oauth.issuedTokenExpiry('never-issued')).toBeUndefined();
      await vdb.oauth.purgeExpired(T0 + 900_000 + 86_400_000 - 1);
      expect(await vdb.oauth.issuedTokenExpiry('issued-1')).toBe(T0 + 900_000);
      await vdb.oauth.purgeExpired(T0 + 900_000 + 86_400_000);
      expect(await vdb.oauth.issuedTokenExpiry('issued-1')).toBeUndefined();
      expect(await vdb.oauth.issuedTokenExpiry('issued-2')).toBe(T0 + 2 * 86_400_000);
    });

    it('claims a client-assertion id once until it expires', async () => {
      const results = await Promise.all([1, 2, 3].map(() => vdb.oauth.claimAssertionId('backend', 'jti-1', T0 + 300_000, T0)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await vdb.oauth.claimAssertionId('other', 'jti-1', T0 + 300_000, T0)).toBe(true);
      expect(await vdb.oauth.claimAssertionId('backend', 'jti-1', T0 + 900_000, T0 + 300_000)).toBe(true);
    });

    it('gives out a launch once, until it expires, and purges what has expired', async () => {
      await vdb.oauth.insertLaunch({ idHash: 'l1', patient: 'p1', encounter: 'e1', createdBy: 'operator', createdAt: T0, expiresAt: T0 + 300_000 });
      expect(await vdb.oauth.claimLaunch('l1', T0 + 300_000)).toBeUndefined();
      expect(await vdb.oauth.claimLaunch('l1', T0)).toEqual({ idHash: 'l1', patient: 'p1', encounter: 'e1', createdBy: 'operator', createdAt: T0, expiresAt: T0 + 300_000 });
      // Single use.
      expect(await vdb.oauth.claimLaunch('l1', T0)).toBeUndefined();
      const g = grant({ expiresAt: T0 + 1000 });
      const c = code(g);
      await issued(g, c);
      await vdb.oauth.purgeExpired(T0 + 2 * 86_400_000);
      expect(await vdb.oauth.findGrant(g.id)).toBeUndefined();
      expect(await vdb.oauth.findCode(c.codeHash)).toBeUndefined();
      expect(await vdb.oauth.isRevoked('single')).toBe(false);
      expect(await vdb.oauth.claimAssertionId('backend', 'jti-1', T0 + 3 * 86_400_000, T0 + 2 * 86_400_000)).toBe(true);
    });
  });
}
