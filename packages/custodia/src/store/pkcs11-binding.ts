/**
 * The PKCS#11 driver: pkcs11js (PeculiarVentures), a thin native binding of the Cryptoki
 * C API (OASIS PKCS#11 v2.40) whose C_* calls block and return, as the synchronous
 * KeyProvider port needs. It is loaded when a PKCS#11 key provider is opened, not when
 * this module is imported: a vault that keeps its KEKs in the keyring file never loads
 * the native addon, and still runs on a machine where it did not build.
 */
import { createRequire } from 'node:module';
import { CustodiaError } from '../kernel/index.js';

/** The pkcs11js module: the `PKCS11` class, the error classes and the CK* constants. */
export type Pkcs11Module = typeof import('pkcs11js');
/** A session or object handle (pkcs11js passes CK_ULONG handles as Buffers). */
export type Pkcs11Handle = import('pkcs11js').Handle;
export type Pkcs11Library = import('pkcs11js').PKCS11;

/** The loaded driver and the vendor module (`.so`) it has opened; not yet C_Initialize'd. */
export interface Pkcs11Driver {
  readonly ck: Pkcs11Module;
  readonly lib: Pkcs11Library;
}

/** Loads pkcs11js and dlopens the vendor module at `modulePath` (e.g. /usr/lib/softhsm/libsofthsm2.so). */
export function loadPkcs11Driver(modulePath: string): Pkcs11Driver {
  let ck: Pkcs11Module;
  try {
    ck = createRequire(import.meta.url)('pkcs11js') as Pkcs11Module;
  } catch (e) {
    throw new CustodiaError('key-unavailable', 'The PKCS#11 driver (the pkcs11js native addon) is not installed or did not build; run npm ci with a C++ toolchain', { cause: e });
  }
  const lib = new ck.PKCS11();
  try {
    lib.load(modulePath);
  } catch (e) {
    throw new CustodiaError('key-unavailable', `The PKCS#11 module ${modulePath} cannot be loaded`, { cause: e });
  }
  return { ck, lib };
}
