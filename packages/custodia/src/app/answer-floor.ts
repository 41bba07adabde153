/**
 * The 404 rule in time (threat-model.md § "The 404 rule, and timing"). A record the caller
 * may not see is answered exactly like one that does not exist — and, with this, not
 * sooner or later either. The two take different paths through the store: a hidden
 * record is found and then judged, a missing one ends at an index miss, and a version
 * recently read by anyone comes from memory. On a loopback read by id the two 404s were
 * 5–40 µs apart at the quantiles, depending on what was cached and what came before
 * (threat-model.md has the figures): small, but a caller who may send tens of thousands
 * of requests can average it out.
 *
 * So the FHIR pipeline holds every refusal it answers with a client-error status (404,
 * 403, 409, 412, 400 …) until a timer armed when the request reached it fires, `floorMs`
 * later. The timer is armed at arrival, not when the refusal is ready: a wait computed
 * from the time already spent would end at the event loop's next millisecond tick after
 * it, and so carry the sub-millisecond part of that time — the very difference hidden.
 * A refusal still being worked on when the timer fires leaves when it is done: the floor
 * hides differences among answers faster than itself, which a refusal is unless the
 * server is overloaded. Not held: 429 (a flood above the rate limits should cost the
 * server as little as possible, and its answer depends on the caller's own request rate
 * only) and server errors. Successful answers are never held, so a search's time still
 * grows with the rows it examines, hidden ones included (threat-model.md says so).
 */
import { catalogEntry, isCustodiaError } from '../kernel/index.js';

/** Runs `fire` once, about `ms` milliseconds from now, unless cancelled first. */
export interface FloorTimer {
  after(ms: number, fire: () => void): () => void;
}

/** `setTimeout`, unreferenced (a pending floor does not keep a closing process alive). */
export const systemTimer: FloorTimer = Object.freeze({
  after(ms: number, fire: () => void): () => void {
    const t = setTimeout(fire, ms);
    t.unref();
    return () => clearTimeout(t);
  },
});

/** The default floor: above a refusal's time on a loaded server (about 1–3 ms audited), so that nearly every refusal waits for it. */
export const DEFAULT_ANSWER_FLOOR_MS = 25;
/** The longest floor a configuration may set: a refusal held longer would look like an outage. */
export const MAX_ANSWER_FLOOR_MS = 1000;

/** One request's floor, armed at its arrival. */
export interface ArmedFloor {
  /** The request is answered without an error: the timer is dropped. */
  done(): void;
  /** The request is refused with `error`: resolves when the timer fires if the refusal is held, at once otherwise. */
  refuse(error: unknown): Promise<void>;
}

export interface AnswerFloor {
  /** The floor in milliseconds; 0: refusals leave as soon as they are ready. */
  readonly floorMs: number;
  /** Arms the floor for a request that has just arrived. */
  start(): ArmedFloor;
}

/** Whether an error's answer is held: a client error other than 429. */
export function isHeldRefusal(error: unknown): boolean {
  if (!isCustodiaError(error)) return false;
  const { status } = catalogEntry(error.code);
  return status >= 400 && status < 500 && status !== 429;
}

const UNHELD: ArmedFloor = Object.freeze({ done: () => undefined, refuse: async () => undefined });

export function answerFloor(floorMs: number, timer: FloorTimer = systemTimer): AnswerFloor {
  return Object.freeze({
    floorMs,
    start(): ArmedFloor {
      if (floorMs <= 0) return UNHELD;
      let fired = false;
      let release: (() => void) | undefined;
      const cancel = timer.after(floorMs, () => {
        fired = true;
        release?.();
      });
      return {
        done: cancel,
        refuse(error: unknown): Promise<void> {
          if (!isHeldRefusal(error)) {
            cancel();
            return Promise.resolve();
          }
          return fired ? Promise.resolve() : new Promise<void>((resolve) => (release = resolve));
        },
      };
    },
  });
}
