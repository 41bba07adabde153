/**
 * What a failed Cryptoki call means for the vault. pkcs11js throws a Pkcs11Error whose
 * `message` is the CK_RV name (`CKR_PIN_INCORRECT`) and `code` its value (OASIS PKCS#11
 * v2.40 §5.1, "Return values"); other errors (a wrong argument type, a closed library)
 * carry no CKR name.
 */
import { CustodiaError } from '../kernel/index.js';

/** The CKR_… name of a failed PKCS#11 call, or undefined for a failure that is not one. */
export function ckrName(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const m = /^(CKR_[A-Z0-9_]+)$/.exec(e.message);
  return m?.[1];
}

/** `key-unavailable` for a token call that failed: the HSM is unreachable, locked or lost the session. */
export function tokenFailure(what: string, e: unknown): CustodiaError {
  const name = ckrName(e);
  return new CustodiaError('key-unavailable', `PKCS#11: ${what} failed${name === undefined ? '' : ` (${name})`}`, { cause: e });
}

/**
 * The CK_RVs of C_UnwrapKey that mean "these wrapped bytes are not intact under this KEK"
 * (PKCS#11 v2.40 §5.18 C_UnwrapKey; RFC 3394 §2.2.3 integrity check). SoftHSM 2.6 answers
 * a failed integrity check with CKR_GENERAL_ERROR, so that counts too: by then the KEK
 * handle, the session and the length have been checked.
 */
export const WRAPPED_KEY_DAMAGED: ReadonlySet<string> = new Set([
  'CKR_WRAPPED_KEY_INVALID',
  'CKR_WRAPPED_KEY_LEN_RANGE',
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
  'CKR_GENERAL_ERROR',
  'CKR_FUNCTION_FAILED',
]);
