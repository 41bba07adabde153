/**
 * Who each user is for Consent provision actors (actor-resolution.ts), cached. The cache is
 * checked against the store's change markers of every type the resolution reads, on every
 * call: a PractitionerRole, Organization, CareTeam or Group created, changed or deleted takes
 * effect on the next request. A result is also dropped when a period it looked at starts or
 * ends. The cached path costs the four change markers and a map look-up.
 *
 * The directory is trusted infrastructure: it reads with full visibility, whoever asks.
 */
import type { ResourceStore } from '../fhir/index.js';
import { resolveActor, type ActorLimits, type Resolution, type ResolvedActor } from './actor-resolution.js';

/** The types whose resources decide who a user is for consent. */
export const ACTOR_LINK_TYPES: readonly string[] = ['PractitionerRole', 'Organization', 'CareTeam', 'Group'];

const MAX_CACHED_USERS = 10_000;

export class ActorDirectory {
  readonly #cache = new Map<string, { generation: string; until: number; actor: ResolvedActor }>();
  /** One resolution at a time per (generation, user); concurrent requests share it. */
  readonly #pending = new Map<string, Promise<Resolution>>();

  constructor(
    private readonly store: ResourceStore,
    private readonly options: { readonly baseUrl?: string; readonly limits?: ActorLimits } = {},
  ) {}

  /**
   * The references naming `fhirUser` (`Type/id`) at time `now`.
   *
   * @example
   *   const actor = await new ActorDirectory(store).resolve('Practitioner/dr1', Date.now());
   *   actor.references // ['Organization/o1', 'Practitioner/dr1', 'PractitionerRole/r1']
   */
  async resolve(fhirUser: string, now: number): Promise<ResolvedActor> {
    // Markers first: a change that lands while the lookups run is caught by the next call.
    const generation = (await Promise.all(ACTOR_LINK_TYPES.map((t) => this.store.changeMarker(t)))).join(':');
    const hit = this.#cache.get(fhirUser);
    if (hit !== undefined && hit.generation === generation && now < hit.until) return hit.actor;
    const key = `${generation}\u0000${fhirUser}`;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = resolveActor(this.store, fhirUser, now, this.options).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    let r = await pending;
    // A shared resolution made for an earlier instant, with a period boundary since.
    if (r.validUntil <= now) r = await resolveActor(this.store, fhirUser, now, this.options);
    if (this.#cache.size >= MAX_CACHED_USERS) this.#cache.clear();
    this.#cache.set(fhirUser, { generation, until: r.validUntil, actor: r.actor });
    return r.actor;
  }
}
