/** Shared set-up for the identity tests: cheap scrypt, a small blocklist, a manual clock. */
import { ManualClock, seededRandom, type Random } from '../../../src/kernel/index.js';
import {
  IdentityService,
  InMemoryIdentityStore,
  ScryptHasher,
  base32Decode,
  totpAt,
  type IdentityOptions,
  type IdentityStore,
  type PasswordHasher,
  type TotpEnrolmentStart,
} from '../../../src/access/index.js';

/** Fast enough for hundreds of hashes in a test run; production uses N=2^17. */
export const TEST_SCRYPT = Object.freeze({ logN: 4, r: 8, p: 1 });

export const COMMON = new Set(['password1234', 'qwertyuiop12', '1qaz2wsx3edc', 'iloveyou1234']);

export const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

export const GOOD_PASSWORD = 'correct horse battery staple';

/** Wraps a hasher and counts the work it does. */
export class CountingHasher implements PasswordHasher {
  verifies: string[] = [];
  hashes = 0;
  constructor(private readonly inner: PasswordHasher) {}
  hash(password: string): Promise<string> {
    this.hashes++;
    return this.inner.hash(password);
  }
  verify(password: string, encoded: string): Promise<boolean> {
    this.verifies.push(encoded);
    return this.inner.verify(password, encoded);
  }
  needsRehash(encoded: string): boolean {
    return this.inner.needsRehash(encoded);
  }
  dummyHash(): string {
    return this.inner.dummyHash();
  }
}

export interface Harness {
  readonly service: IdentityService;
  readonly store: IdentityStore;
  readonly clock: ManualClock;
  readonly random: Random;
  readonly hasher: CountingHasher;
}

export function harness(options: Partial<IdentityOptions> = {}, store: IdentityStore = new InMemoryIdentityStore(), seed = 'identity-test'): Harness {
  const clock = new ManualClock(T0);
  const random = seededRandom(seed);
  const hasher = new CountingHasher(new ScryptHasher(random, TEST_SCRYPT));
  const service = new IdentityService(store, clock, random, { commonPasswords: COMMON, hasher, ...options });
  return { service, store, clock, random, hasher };
}

/** The code an authenticator app would show now for an enrolment. */
export function codeFor(e: Pick<TotpEnrolmentStart, 'secret' | 'algorithm' | 'digits' | 'period'>, nowMs: number): string {
  return totpAt(base32Decode(e.secret)!, nowMs, { algorithm: e.algorithm, digits: e.digits, period: e.period });
}
