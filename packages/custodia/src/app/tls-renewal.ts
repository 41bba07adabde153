/**
 * Keeps a running server's certificate current: every `intervalMs` the TLS material is
 * prepared again — the `--tls-self-signed` certificate is re-issued when it is within 30
 * days of expiring, and `--tls-cert/--tls-key`, `--tls-client-ca` and `--tls-client-crl`
 * files an operator replaced are read again — and handed to `apply` (the server's
 * `setSecureContext`) when it changed, with the material it replaces. New connections get
 * the new material; what becomes of open ones is the caller's (`serve` retires them when
 * the client CAs or CRLs changed: server/tls-connections.ts). A failure (a
 * half-written file, a key that does not match, a CRL past its nextUpdate) keeps the
 * current material and is reported to `onError`.
 */
import { secureRandom, systemClock, type Clock, type Random } from '../kernel/index.js';
import { prepareTlsMaterial, type TlsMaterial, type TlsSettings } from './tls-files.js';

export interface TlsRenewal {
  /** Checks now; resolves to the material when it changed and was applied. */
  check(): Promise<TlsMaterial | undefined>;
  stop(): void;
}

const sameBytes = (a: Buffer | undefined, b: Buffer | undefined): boolean => (a === undefined ? b === undefined : b !== undefined && a.equals(b));

/** The same client CAs and CRLs: what client certificates are verified against. */
export const sameClientLists = (a: TlsMaterial, b: TlsMaterial): boolean => sameBytes(a.clientCa, b.clientCa) && sameBytes(a.clientCrl?.pem, b.clientCrl?.pem);

/** The same certificate, key, client CAs and CRLs. */
function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.fingerprint === b.fingerprint && a.key.equals(b.key) && sameClientLists(a, b);
}

export function startTlsRenewal(
  config: TlsSettings,
  current: TlsMaterial,
  o: { readonly clock?: Clock; readonly random?: Random; readonly intervalMs: number; readonly apply: (m: TlsMaterial, before: TlsMaterial) => void; readonly onError: (e: unknown) => void },
): TlsRenewal {
  let serving = current;
  const check = async (): Promise<TlsMaterial | undefined> => {
    try {
      const next = await prepareTlsMaterial(config, o.clock ?? systemClock, o.random ?? secureRandom, serving);
      if (next === undefined || sameMaterial(next, serving)) return undefined;
      o.apply(next, serving);
      serving = next;
      return next;
    } catch (e) {
      o.onError(e);
      return undefined;
    }
  };
  const timer = setInterval(() => void check(), o.intervalMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
