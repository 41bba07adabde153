/**
 * `custodia token revoke` (app/token-revocation.ts) on both databases: a token of this
 * vault, put on the revocation list from outside the server, is refused by the running
 * vault from its next request and stays so; anything that is not a token signed by this
 * vault's key is refused without touching the database; an expired token needs nothing.
 * The operator log names the token by its id, never by the token. An operator who has
 * only the token's id, from an AuditEvent, revokes by it.
 */
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/kernel/index.js';
import { LONGEST_TOKEN_LIFETIME_MS, openVaultDatabase, parseTokenId, revokeToken, revokeTokenId } from '../../src/app/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { startTestVault, type TestVault } from '../helpers/test-vault.js';

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`token revocation on ${name}`, () => {
    let t: TestVault;
    beforeAll(async () => {
      t = await startTestVault(name);
    });
    afterAll(async () => t?.close());

    const status = async (token: string): Promise<number> => (await t.request('GET', '/fhir/Patient', undefined, { authorization: `Bearer ${token}` })).status;
    const operatorLog = async () => {
      const db = await openVaultDatabase(t.vault.config);
      try {
        return await db.operatorLog.recent(20);
      } finally {
        await db.close();
      }
    };

    it('refuses a revoked token from the next request on, and records the revocation by token id', async () => {
      const token = await t.tokenFor('system/*.rs', 'leaked-operator');
      const other = await t.tokenFor('system/*.rs', 'other-operator');
      expect(await status(token)).toBe(200);
      const r = await revokeToken(t.vault.config, `\n  ${token}  \n`);
      expect(r).toMatchObject({ revoked: true, kind: 'operator', subject: 'leaked-operator' });
      expect(r.tokenId).toMatch(/^[0-9a-f-]{36}$/);
      expect(await status(token)).toBe(401);
      expect(await status(other)).toBe(200);
      // Again: still revoked, nothing breaks.
      expect((await revokeToken(t.vault.config, token)).revoked).toBe(true);
      expect(await status(token)).toBe(401);
      const log = await operatorLog();
      const revocations = log.filter((e) => e.action === 'token.revoke');
      expect(revocations).toHaveLength(2);
      expect(revocations[0]!.detail).toMatchObject({ jti: r.tokenId, subject: 'leaked-operator', kind: 'operator', issuer: 'urn:custodia:vault' });
      expect(JSON.stringify(log)).not.toContain(token);
    });

    it('revokes by the id an AuditEvent shows (agent.policy), for an operator who has the trail but not the token', async () => {
      const token = await t.tokenFor('system/*.rs', 'seen-in-the-trail');
      const other = await t.tokenFor('system/*.rs', 'bystander');
      expect(await status(token)).toBe(200);
      const jti = decodeJwt(token).jti!;
      const trail = await t.request('GET', `/fhir/AuditEvent?_count=10&policy=${encodeURIComponent(`urn:ietf:params:oauth:jti:${jti}`)}`);
      expect(trail.status).toBe(200);
      const policy = trail.body.entry[0].resource.agent.find((a: any) => a.requestor === true).policy[0] as string;
      const r = await revokeTokenId(t.vault.config, parseTokenId(policy));
      // Until the token expires (as the vault recorded it when it issued it), plus five minutes of clock skew.
      expect(r).toEqual({ revoked: true, recorded: true, until: decodeJwt(token).exp! * 1000 + 300_000 });
      expect(await status(token)).toBe(401);
      expect(await status(other)).toBe(200);
      // The attempt with the revoked token is on the trail under the same id, with why.
      const after = await t.request('GET', `/fhir/AuditEvent?_count=10&outcome=4&policy=${encodeURIComponent(policy)}`);
      const [attempt] = after.body.entry.filter((e: any) => e.resource.resourceType === 'AuditEvent').map((e: any) => e.resource);
      expect(attempt).toMatchObject({ type: { code: '110114' }, outcome: '4', outcomeDesc: 'token-invalid' }); // DICOM User Authentication
      expect(attempt.agent[0]).toMatchObject({ who: { display: 'anonymous (no valid token)' }, policy: [policy] });
      const query = attempt.entity.find((e: any) => e.query !== undefined).query as string;
      expect(Buffer.from(query, 'base64').toString()).toBe('reason=revoked');
      const [entry] = (await operatorLog()).filter((e) => e.action === 'token.revoke' && e.detail['jti'] === jti);
      expect(entry!.detail).toEqual({ jti, by: 'id', expires: new Date(r.until).toISOString() });
    });

    it('refuses an id this vault never issued, unless told it is unrecorded, and leaves an expired one alone', async () => {
      const before = (await operatorLog()).length;
      for (const id of ['0b9c0000-0000-4000-8000-000000000000', 'someone-elses-token']) {
        await expect(revokeTokenId(t.vault.config, id)).rejects.toMatchObject({ code: 'token-unknown' });
      }
      const db = await openVaultDatabase(t.vault.config);
      try {
        expect(await db.oauth.isRevoked('someone-elses-token')).toBe(false);
      } finally {
        await db.close();
      }
      expect((await operatorLog()).length).toBe(before);
      // A token issued before issuance was recorded: listed for as long as any token lives.
      const now = new ManualClock(Date.now());
      const forced = await revokeTokenId(t.vault.config, 'issued-before-the-record', now, { unrecorded: true });
      expect(forced).toEqual({ revoked: true, recorded: false, until: now.now() + LONGEST_TOKEN_LIFETIME_MS });
      const [entry] = (await operatorLog()).filter((e) => e.detail['jti'] === 'issued-before-the-record');
      expect(entry!.detail).toMatchObject({ by: 'id', recorded: false });
      // Expired: nothing to do, nothing written.
      const token = await t.tokenFor('system/*.rs', 'expired-by-now');
      const jti = decodeJwt(token).jti!;
      const later = new ManualClock(Date.now() + 2 * 3600_000);
      expect(await revokeTokenId(t.vault.config, jti, later)).toEqual({ revoked: false, recorded: true, until: decodeJwt(token).exp! * 1000 });
      expect((await operatorLog()).some((e) => e.detail['jti'] === jti)).toBe(false);
    });

    it('takes a token id alone or as the BALP URN, and nothing else', () => {
      expect(parseTokenId(' 0b9c-x ')).toBe('0b9c-x');
      expect(parseTokenId('urn:ietf:params:oauth:jti:0b9c-x')).toBe('0b9c-x');
      for (const bad of ['', 'urn:ietf:params:oauth:jti:', 'a b', 'x'.repeat(257), 'caf\u00e9', 'a\u0000b']) {
        expect(() => parseTokenId(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'request-malformed' }));
      }
    });

    it('refuses anything but a token signed by this vault’s key, and says why', async () => {
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const foreign = await new SignJWT({ kind: 'operator', scope: 'system/*.rs' }).setProtectedHeader({ alg: 'EdDSA' }).setJti('00000000-0000-4000-8000-000000000000').setSubject('x').setExpirationTime('1h').sign(privateKey);
      await expect(revokeToken(t.vault.config, foreign)).rejects.toThrow(/not signed by this vault's key/);
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"jti":"a","exp":9999999999}').toString('base64url')}.`;
      for (const junk of ['', 'not a token', unsigned, `${foreign}.extra`, 'a'.repeat(20_000)]) {
        await expect(revokeToken(t.vault.config, junk)).rejects.toMatchObject({ code: 'request-malformed' });
      }
      expect((await operatorLog()).filter((e) => e.action === 'token.revoke' && e.detail['subject'] === 'x')).toHaveLength(0);
    });

    it('has nothing to do for a token that expired already', async () => {
      const token = await t.tokenFor('system/*.rs', 'gone');
      const later = new ManualClock(Date.now() + 2 * 3600_000);
      const r = await revokeToken(t.vault.config, token, later);
      expect(r).toMatchObject({ revoked: false, subject: 'gone' });
      expect((await operatorLog()).some((e) => e.detail['jti'] === r.tokenId)).toBe(false);
    });
  });
}
