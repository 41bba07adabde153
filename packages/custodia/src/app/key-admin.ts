/**
 * The operator's key management and erasure commands (`custodia keys …`, `custodia
 * patient …`): each opens the vault's database and key store, acts, and records the change
 * in the operator log like the HTTP admin API does. They may run while the server runs:
 * the key store and the keyring are re-read by the server when they change.
 */
import { CustodiaError, secureRandom, systemClock, type Clock } from '../kernel/index.js';
import type { LegalHold } from '../store/index.js';
import { isFhirId } from '../fhir/index.js';
import type { VaultConfig } from './config.js';
import { badPatientId, ErasureService, type ErasureReport } from './erasure-service.js';
import { KeyRotation, type KeyStatus, type ResealProgress } from './key-rotation.js';
import { openVaultDatabase } from './vault.js';
import { DeviceDirectory } from './device-directory.js';
import { ledgerErasureRecorder } from './erasure-record.js';

type Database = Awaited<ReturnType<typeof openVaultDatabase>>;

async function withKeys<T>(config: VaultConfig, fn: (db: Database, services: { erasure: ErasureService; rotation: KeyRotation }) => Promise<T>, clock: Clock = systemClock): Promise<T> {
  const db = await openVaultDatabase(config, clock, secureRandom);
  try {
    const keys = db.keyManagement.keys;
    if (keys === undefined) throw new CustodiaError('config-invalid', 'Encryption at rest is off (CUSTODIA_ENCRYPTION_AT_REST=off): there are no keys');
    return await fn(db, {
      erasure: new ErasureService(keys, db.sealedData, db.legalHolds, config.retention, db.operatorLog, clock, ledgerErasureRecorder(db, config.ledger.audit), async (patient) => void (await db.baselines.forget(await new DeviceDirectory(db.resources, clock).devicesOf(patient)))),
      rotation: new KeyRotation(keys, db.sealedData, db.keyManagement.atRest, db.operatorLog, clock),
    });
  } finally {
    await db.close();
  }
}

export function keyStatus(config: VaultConfig): Promise<KeyStatus> {
  return withKeys(config, (_db, s) => s.rotation.status());
}

export function rotateKek(config: VaultConfig): Promise<{ kek: string; rewrapped: number }> {
  return withKeys(config, (_db, s) => s.rotation.rotateKek('operator'));
}

/**
 * Retires every data key; with `wait`, re-seals everything under the new keys before
 * returning (resumable: run it again after an interruption), else the server does it.
 */
export function rotateDataKeys(config: VaultConfig, o: { readonly wait: boolean; readonly onProgress?: (p: ResealProgress) => void }): Promise<{ retired: number; resealed: number }> {
  return withKeys(config, async (_db, s) => {
    const retired = await s.rotation.retireDataKeys('operator');
    const resealed = o.wait ? await s.rotation.resealAll(o.onProgress) : 0;
    return { retired, resealed };
  });
}

/** Finishes a data-key rotation that was interrupted (or left to a server that is not running). */
export function resumeReseal(config: VaultConfig, onProgress?: (p: ResealProgress) => void): Promise<number> {
  return withKeys(config, (_db, s) => s.rotation.resealAll(onProgress));
}

export function erasePatient(config: VaultConfig, patientId: string, reason: string): Promise<ErasureReport> {
  return withKeys(config, (_db, s) => s.erasure.erasePatient(patientId, 'operator', reason));
}

export function placeLegalHold(config: VaultConfig, patientId: string, reason: string): Promise<LegalHold> {
  if (!isFhirId(patientId)) throw badPatientId();
  return withKeys(config, async (db) => {
    const hold: LegalHold = { patientId, reason, placedBy: 'operator', placedAt: systemClock.now() };
    await db.legalHolds.place(hold);
    await db.operatorLog.record({ at: hold.placedAt, action: 'legal-hold.place', actor: 'operator', detail: { patient: patientId, reason, via: 'cli' } });
    return hold;
  });
}

export function releaseLegalHold(config: VaultConfig, patientId: string): Promise<boolean> {
  if (!isFhirId(patientId)) throw badPatientId();
  return withKeys(config, async (db) => {
    const released = await db.legalHolds.release(patientId);
    if (released) await db.operatorLog.record({ at: systemClock.now(), action: 'legal-hold.release', actor: 'operator', detail: { patient: patientId, via: 'cli' } });
    return released;
  });
}
