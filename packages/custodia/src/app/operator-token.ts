/**
 * `custodia token`: a bearer token signed with the data directory's key, for operators
 * and automated tests. Only someone who can read `<data-dir>/keys/` can mint one, and
 * every mint is recorded in the operator log (who, for whom, which scope and purpose, the
 * token id — never the token). `custodia token revoke` (token-revocation.ts) ends one early.
 *
 * Without --user it is an operator token. With --user it speaks for that user: their
 * role, fhirUser and clearances, optionally a patient context (--patient) and a purpose
 * of use (--purpose BTG --reason …, which opens a break-the-glass session on first use).
 */
import { ADMIN_ROLES, ADMIN_SCOPE, CLEARANCES, hasAdminScope, TokenService, type Principal } from '../access/index.js';
import { CustodiaError, secureRandom, systemClock } from '../kernel/index.js';
import { loadSigningKey } from '../store/index.js';
import { resolveConfig, type ConfigInput } from './config.js';
import { createIdentityService, openVaultDatabase } from './vault.js';

export interface OperatorTokenOptions {
  readonly dataDir: string;
  readonly database?: string;
  readonly postgresSchema?: string;
  readonly subject: string;
  /** Default: system/*.cruds; with a user, user/*.cruds (and custodia/admin for administrative roles). */
  readonly scope?: string;
  readonly ttlSeconds: number;
  readonly user?: string;
  readonly patient?: string;
  readonly purpose?: string;
  readonly reason?: string;
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export async function mintOperatorToken(o: OperatorTokenOptions): Promise<string> {
  const input: ConfigInput = {
    dataDir: o.dataDir,
    ...(o.database === undefined ? {} : { database: o.database }),
    ...(o.postgresSchema === undefined ? {} : { postgresSchema: o.postgresSchema }),
  };
  const config = resolveConfig(input, process.env);
  if (o.patient !== undefined && !ID.test(o.patient)) throw new CustodiaError('request-malformed', '--patient must be a Patient id');
  if (o.purpose === 'BTG' && (o.reason === undefined || o.reason.trim().length < 10)) throw new CustodiaError('request-malformed', '--purpose BTG needs --reason of at least 10 characters');
  if (o.purpose !== undefined && !/^[A-Z]{2,16}$/.test(o.purpose)) throw new CustodiaError('request-malformed', '--purpose must be an HL7 v3 PurposeOfUse code such as TREAT or BTG');
  const key = await loadSigningKey(config.dataDir, true);
  const database = await openVaultDatabase(config);
  try {
    // Recorded as issued before it is printed: `token revoke --jti` checks the record (token-id.ts).
    const tokens = new TokenService(key, systemClock, secureRandom, { issued: database.oauth });
    let claims: Partial<Principal> & { kind: Principal['kind'] } = { kind: 'operator' };
    let subject = o.subject;
    let scope = o.scope ?? 'system/*.cruds';
    if (o.user !== undefined) {
      const user = await createIdentityService(database, systemClock, secureRandom).getUserByUsername(o.user);
      if (user === undefined || user.status !== 'active') throw new CustodiaError('identity-not-found', 'No active user with that username');
      subject = user.id;
      claims = {
        kind: 'user',
        role: user.role,
        ...(user.fhirUser === undefined ? {} : { fhirUser: user.fhirUser }),
        clearances: user.clearances.filter((c) => CLEARANCES.has(c)),
      };
      const administers = ADMIN_ROLES.includes(user.role);
      scope = o.scope ?? (administers ? `user/*.cruds ${ADMIN_SCOPE}` : 'user/*.cruds');
      if (!administers && hasAdminScope(scope)) throw new CustodiaError('request-malformed', `--scope ${ADMIN_SCOPE} is only for admin and privacy-officer users`);
    }
    const minted = await tokens.mint({
      subject,
      scope,
      ttlSeconds: o.ttlSeconds,
      kind: claims.kind,
      ...(claims.role === undefined ? {} : { role: claims.role }),
      ...(claims.fhirUser === undefined ? {} : { fhirUser: claims.fhirUser }),
      ...(claims.clearances === undefined ? {} : { clearances: claims.clearances }),
      ...(o.patient === undefined ? {} : { patient: o.patient }),
      ...(o.purpose === undefined ? {} : { purposeOfUse: o.purpose }),
      ...(o.reason === undefined ? {} : { breakGlassReason: o.reason.trim() }),
    });
    await database.operatorLog.record({
      at: systemClock.now(),
      action: 'token.mint',
      actor: 'operator',
      // The token id (not a secret) ties the mint to the token's audit records and to a later `token revoke`.
      detail: { jti: minted.tokenId, subject, user: o.user ?? null, kind: claims.kind, scope, patient: o.patient ?? null, purpose: o.purpose ?? null, ttl: o.ttlSeconds },
    });
    return minted.token;
  } finally {
    await database.close();
  }
}
