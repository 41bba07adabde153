/** The one source of time. Inject it; never call `Date.now()` in domain code. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** A clock that only moves when told to: for tests. */
export class ManualClock implements Clock {
  #ms: number;
  constructor(startMs: number) {
    this.#ms = startMs;
  }
  now(): number {
    return this.#ms;
  }
  advance(ms: number): void {
    this.#ms += ms;
  }
  set(ms: number): void {
    this.#ms = ms;
  }
}

/** A clock whose readings never go backwards and never repeat, so versions stay ordered even in one millisecond. */
export function monotonicClock(base: Clock): Clock {
  let last = 0;
  return {
    now(): number {
      const t = base.now();
      last = t > last ? t : last + 1;
      return last;
    },
  };
}
