/**
 * Versioned schema migrations, applied in order by kysely's Migrator (which records
 * them in `kysely_migration` and locks concurrent runs). Never edit a released
 * migration; add the next one.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { SqlDialect } from '../schema.js';
import { initialSchema } from './0001-initial.js';
import { compartmentSchema } from './0003-compartments.js';
import { identitySchema } from './0004-identity.js';
import { breakGlassSchema } from './0005-break-glass.js';
import { oauthSchema } from './0006-oauth.js';
import { typeSequenceSchema } from './0007-type-sequence.js';
import { clearanceSchema } from './0008-clearances.js';
import { operatorLogSchema } from './0009-operator-log.js';
import { pendingEnrolmentSchema } from './0010-pending-enrolment.js';
import { sessionCutoffSchema } from './0011-session-cutoff.js';
import { keyIdSchema } from './0012-key-ids.js';
import { legalHoldSchema } from './0013-legal-holds.js';
import { clientCertificateSchema } from './0014-client-certificate.js';
import { blindPrefixTailSchema } from './0015-blind-prefix-tails.js';
import { ledgerSchema } from './0016-ledger.js';
import { ledgerCosignatureSchema } from './0017-ledger-cosignatures.js';
import { storeEpochSchema } from './0018-store-epoch.js';
import { findingSchema } from './0019-findings.js';
import { talkerSchema } from './0020-talkers.js';
import { breakGlassSealedReasonSchema } from './0021-break-glass-sealed-reason.js';
import { grantsByUserSchema } from './0022-grants-by-user.js';
import { ledgerKeyIndexSchema } from './0023-ledger-key-index.js';
import { auditFilingSchema } from './0024-audit-filings.js';
import { issuedTokenSchema } from './0025-issued-tokens.js';
import { sharedBucketSchema } from './0026-shared-buckets.js';
import { deviceBaselineSchema } from './0027-device-baselines.js';

function statements(list: string[]): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const stmt of list) await sql.raw(stmt).execute(db);
    },
  };
}

export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '0001-initial': statements(initialSchema(dialect)),
        '0003-compartments': statements(compartmentSchema(dialect)),
        // 0004 was written after 0003 had landed: keys follow the order of landing.
        '0004-identity': statements(identitySchema(dialect)),
        '0005-break-glass': statements(breakGlassSchema(dialect)),
        '0006-oauth': statements(oauthSchema(dialect)),
        '0007-type-sequence': statements(typeSequenceSchema()),
        '0008-clearances': statements(clearanceSchema()),
        '0009-operator-log': statements(operatorLogSchema(dialect)),
        '0010-pending-enrolment': statements(pendingEnrolmentSchema()),
        '0011-session-cutoff': statements(sessionCutoffSchema()),
        '0012-key-ids': statements(keyIdSchema(dialect)),
        '0013-legal-holds': statements(legalHoldSchema(dialect)),
        '0014-client-certificate': statements(clientCertificateSchema()),
        '0015-blind-prefix-tails': statements(blindPrefixTailSchema(dialect)),
        '0016-ledger': statements(ledgerSchema(dialect)),
        '0017-ledger-cosignatures': statements(ledgerCosignatureSchema(dialect)),
        '0018-store-epoch': statements(storeEpochSchema(dialect)),
        '0019-findings': statements(findingSchema(dialect)),
        '0020-talkers': statements(talkerSchema(dialect)),
        '0021-break-glass-sealed-reason': statements(breakGlassSealedReasonSchema(dialect)),
        '0022-grants-by-user': statements(grantsByUserSchema()),
        '0023-ledger-key-index': statements(ledgerKeyIndexSchema()),
        '0024-audit-filings': statements(auditFilingSchema(dialect)),
        '0025-issued-tokens': statements(issuedTokenSchema(dialect)),
        '0026-shared-buckets': statements(sharedBucketSchema(dialect)),
        '0027-device-baselines': statements(deviceBaselineSchema(dialect)),
      };
    },
  };
}
