/**
 * Every reference a Consent provision actor may use to name a user (R4 consent.html,
 * Consent.provision.actor.reference: Device | Group | CareTeam | Organization | Patient |
 * Practitioner | RelatedPerson | PractitionerRole), read from the stored data:
 *
 * - the user's `fhirUser` itself;
 * - a Practitioner: the PractitionerRoles whose `practitioner` is them, and each role's
 *   `organization`;
 * - a PractitionerRole: its `practitioner` and `organization`; the practitioner's other roles
 *   (and their organizations) only as "possibly" — the user acts in this role, but is still
 *   the person who holds the others;
 * - every Organization above one of those through `partOf` (a member of a department is a
 *   member of the hospital it is part of);
 * - CareTeams with one of the people above (user, practitioner, roles) as a
 *   `participant.member`, and CareTeams with such a CareTeam as a member;
 * - Groups with one of those people as a `member.entity`, and Groups containing such a Group.
 *
 * Links have a certainty. A link that is not in effect now — a role with `active: false` or
 * outside its `period`, a CareTeam whose status is not active or outside its period, a
 * participant or member outside its period, a Group member marked `inactive`, an inactive
 * Group — makes the reference "possibly" the user: a deny naming it applies, a permit does
 * not (the consent engine's rule for what it cannot tell). Organisations as CareTeam members
 * do not make their staff members of the team. CareTeam and Group memberships are always
 * "possibly": clinicians may write those resources, so a membership must never open a permit.
 *
 * Lookups are bounded (hostile or merely large data must not blow up memory or time): when a
 * limit is reached, the type is reported as unresolved, and every actor of that type the
 * lookup did not reach is treated as "possibly" the user.
 */
import { isResourceType, parseReference, type ResourceStore, type SearchQuery } from '../fhir/index.js';
import { parsePeriod, type AccessRequest } from '../access/index.js';

/** The requester as Consent.provision.actor can name them (AccessRequest.actor). */
export type ResolvedActor = Required<Pick<AccessRequest['actor'], 'references' | 'possibly' | 'unresolvedTypes'>>;

export interface ActorLimits {
  /** PractitionerRoles of one practitioner. */
  readonly roles: number;
  /** Organizations read while walking `partOf` (also the longest chain followed). */
  readonly organizations: number;
  /** CareTeams, and Groups, looked at per level of nesting. */
  readonly memberships: number;
  /** Levels of CareTeams in CareTeams, and of Groups in Groups, followed above the user's own. */
  readonly nesting: number;
}

export const DEFAULT_ACTOR_LIMITS: ActorLimits = { roles: 64, organizations: 64, memberships: 256, nesting: 4 };

export interface Resolution {
  readonly actor: ResolvedActor;
  /** The first instant after `now` at which a period examined starts or ends (the result may change then). */
  readonly validUntil: number;
}

type Certainty = 'yes' | 'maybe';
type Json = Record<string, unknown>;

/** Actor types whose membership lists the users being resolved may write themselves. */
const SELF_WRITTEN_TYPES: readonly string[] = ['CareTeam', 'Group'];

const weaker = (a: Certainty, b: Certainty): Certainty => (a === 'yes' && b === 'yes' ? 'yes' : 'maybe');
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const listOf = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
const typeOf = (ref: string): string => ref.slice(0, ref.indexOf('/'));

class Walk {
  readonly found = new Map<string, Certainty>();
  readonly unresolved = new Set<string>();
  validUntil = Number.POSITIVE_INFINITY;

  constructor(
    private readonly store: ResourceStore,
    readonly now: number,
    readonly limits: ActorLimits,
    private readonly baseUrl: string | undefined,
    private readonly trustMemberships: boolean,
  ) {}

  /** Records `ref` at certainty `c`; true when it is new or became more certain. */
  add(ref: string, c: Certainty): boolean {
    const had = this.found.get(ref);
    if (had === 'yes' || had === c) return false;
    this.found.set(ref, c);
    return true;
  }

  /** `Type/id` of a Reference element that points into this vault, of one of `types`. */
  refOf(element: unknown, types: readonly string[]): string | undefined {
    if (!isObject(element) || typeof element['reference'] !== 'string') return undefined;
    const parsed = parseReference(element['reference'], isResourceType, this.baseUrl);
    return parsed?.kind === 'local' && types.includes(parsed.type) ? `${parsed.type}/${parsed.id}` : undefined;
  }

  /** Is a Period (absent: always) in effect now? Malformed: cannot tell. */
  inEffect(period: unknown): Certainty {
    if (period === undefined) return 'yes';
    const range = parsePeriod(period);
    if (typeof range === 'string') return 'maybe';
    for (const edge of [range.start, range.end]) if (edge !== undefined && edge > this.now) this.validUntil = Math.min(this.validUntil, edge);
    return (range.start === undefined || this.now >= range.start) && (range.end === undefined || this.now < range.end) ? 'yes' : 'maybe';
  }

  async read(ref: string): Promise<Json | undefined> {
    const v = await this.store.readCurrent(typeOf(ref), ref.slice(ref.indexOf('/') + 1));
    return v?.json == null ? undefined : (JSON.parse(v.json) as Json);
  }

  /** Current resources of `type` whose reference parameter `param` points at one of `refs`: at most `limit`, and whether there were more. */
  async search(type: string, param: string, refs: readonly string[], limit: number): Promise<{ resources: Json[]; truncated: boolean }> {
    const values = refs.map((r) => ({ kind: 'local' as const, types: [typeOf(r)], id: r.slice(r.indexOf('/') + 1) }));
    const query: SearchQuery = { types: [type], conditions: [{ kind: 'reference', param, values }], sort: [], count: limit, total: 'none', include: [], revinclude: [], ignored: [] };
    const { keys, truncated } = await this.store.search(query, limit);
    const resources = (await this.store.loadByKeys(keys)).flatMap((v) => (v.json === null ? [] : [JSON.parse(v.json) as Json]));
    return { resources, truncated };
  }

  /**
   * CareTeam and Group memberships count for denies only: both types are clinical data that
   * clinicians may write, so a user could add themselves to a team a consent permits. A
   * membership therefore makes the team "possibly" the user, never surely. (Removing oneself
   * from a team to escape a deny naming it is still possible: docs/access-control.md.)
   * Organisations and PractitionerRoles, which only administrators write, count both ways.
   */
  result(): Resolution {
    const certainty = (ref: string, c: Certainty): Certainty => (!this.trustMemberships && SELF_WRITTEN_TYPES.includes(typeOf(ref)) ? 'maybe' : c);
    const of = (c: Certainty) => [...this.found].filter(([k, v]) => certainty(k, v) === c).map(([k]) => k).sort();
    return { actor: { references: of('yes'), possibly: of('maybe'), unresolvedTypes: [...this.unresolved].sort() }, validUntil: this.validUntil };
  }
}

const roleCertainty = (w: Walk, role: Json): Certainty => weaker(role['active'] === false ? 'maybe' : 'yes', w.inEffect(role['period']));

/** The roles of a practitioner, at most as certain as `cap`; their organizations go to `orgs`. */
async function addRoles(w: Walk, practitioner: string, cap: Certainty, skip: string, orgs: [string, Certainty][]): Promise<void> {
  const { resources, truncated } = await w.search('PractitionerRole', 'practitioner', [practitioner], w.limits.roles);
  // Roles not looked at may be members of anything: nothing about them can be ruled out.
  if (truncated) for (const t of ['PractitionerRole', 'Organization', 'CareTeam', 'Group']) w.unresolved.add(t);
  for (const role of resources) {
    const ref = `PractitionerRole/${String(role['id'])}`;
    if (ref === skip) continue;
    const c = weaker(cap, roleCertainty(w, role));
    w.add(ref, c);
    const org = w.refOf(role['organization'], ['Organization']);
    if (org !== undefined) orgs.push([org, c]);
  }
}

/** Each organization and everything above it through `partOf`; the surer links first, so each chain is walked at most twice. */
async function addOrganizations(w: Walk, orgs: readonly [string, Certainty][]): Promise<void> {
  const parents = new Map<string, string | undefined>();
  const sorted = [...orgs].sort((a, b) => (a[1] === b[1] ? 0 : a[1] === 'yes' ? -1 : 1));
  for (const [start, c] of sorted) {
    let org: string | undefined = start;
    while (org !== undefined && w.add(org, c)) {
      if (!parents.has(org)) {
        if (parents.size >= w.limits.organizations) {
          w.unresolved.add('Organization');
          break;
        }
        parents.set(org, w.refOf((await w.read(org))?.['partOf'], ['Organization']));
      }
      org = parents.get(org);
    }
  }
}

interface Membership {
  readonly type: 'CareTeam' | 'Group';
  /** The search parameter over the member references. */
  readonly param: string;
  /** The container's own certainty: status, active flag, period; undefined to ignore it (entered in error). */
  container(w: Walk, r: Json): Certainty | undefined;
  /** Member entries: their reference and their own certainty. */
  members(w: Walk, r: Json): { ref: string | undefined; certainty: Certainty }[];
}

const MEMBER_TYPES = ['CareTeam', 'Device', 'Group', 'Organization', 'Patient', 'Practitioner', 'PractitionerRole', 'RelatedPerson'];

const CARE_TEAMS: Membership = {
  type: 'CareTeam',
  param: 'participant',
  container: (w, r) => (r['status'] === 'entered-in-error' ? undefined : weaker(r['status'] === undefined || r['status'] === 'active' ? 'yes' : 'maybe', w.inEffect(r['period']))),
  members: (w, r) => listOf(r['participant']).map((p) => ({ ref: w.refOf(p['member'], MEMBER_TYPES), certainty: w.inEffect(p['period']) })),
};

const GROUPS: Membership = {
  type: 'Group',
  param: 'member',
  container: (_w, r) => (r['active'] === false ? 'maybe' : 'yes'),
  members: (w, r) => listOf(r['member']).map((m) => ({ ref: w.refOf(m['entity'], MEMBER_TYPES), certainty: weaker(m['inactive'] === true ? 'maybe' : 'yes', w.inEffect(m['period'])) })),
};

/** Containers (CareTeams or Groups) with one of `members` in them, and containers of those, up to the nesting limit. */
async function addMemberships(w: Walk, kind: Membership, members: ReadonlyMap<string, Certainty>): Promise<void> {
  const known = new Map(members);
  let frontier = new Map(members);
  // Level 0: the people's own containers; level n: containers n deep in others.
  for (let level = 0; frontier.size > 0; level += 1) {
    const { resources, truncated } = await w.search(kind.type, kind.param, [...frontier.keys()], w.limits.memberships);
    if (truncated) w.unresolved.add(kind.type);
    // One level deeper than the limit: unresolved only if there is something there.
    if (level > w.limits.nesting) {
      if (resources.length > 0) w.unresolved.add(kind.type);
      return;
    }
    const next = new Map<string, Certainty>();
    for (const r of resources) {
      const own = kind.container(w, r);
      if (own === undefined) continue;
      let best: Certainty | undefined;
      for (const m of kind.members(w, r)) {
        const via = m.ref === undefined ? undefined : known.get(m.ref);
        if (via !== undefined) best = best === 'yes' ? 'yes' : weaker(weaker(via, m.certainty), own);
      }
      // Found by the index but no entry recognised here: cannot tell.
      const ref = `${kind.type}/${String(r['id'])}`;
      const c = best ?? 'maybe';
      if (w.add(ref, c)) next.set(ref, w.found.get(ref)!);
    }
    for (const [ref, c] of next) known.set(ref, c);
    frontier = next;
  }
}

export interface ResolveOptions {
  readonly limits?: ActorLimits;
  readonly baseUrl?: string;
  /**
   * Report CareTeam and Group memberships as certain when they are in effect (default: always
   * "possibly", see Walk.result). Only for examining the walk itself: never in the vault.
   */
  readonly trustMemberships?: boolean;
}

/**
 * Resolves `fhirUser` (`Type/id`) at time `now`, reading the store with full visibility.
 *
 * @example
 *   await resolveActor(store, 'Practitioner/dr1', Date.now())
 *   // { actor: { references: ['Organization/o1', 'Practitioner/dr1', 'PractitionerRole/r1'], possibly: [], unresolvedTypes: [] }, validUntil: Infinity }
 */
export async function resolveActor(store: ResourceStore, fhirUser: string, now: number, options: ResolveOptions = {}): Promise<Resolution> {
  const w = new Walk(store, now, options.limits ?? DEFAULT_ACTOR_LIMITS, options.baseUrl, options.trustMemberships === true);
  const self = w.refOf({ reference: fhirUser }, [typeOf(fhirUser)]);
  if (self === undefined) return { actor: { references: [fhirUser], possibly: [], unresolvedTypes: [] }, validUntil: w.validUntil };
  w.add(self, 'yes');
  const orgs: [string, Certainty][] = [];
  if (typeOf(self) === 'Practitioner') await addRoles(w, self, 'yes', self, orgs);
  if (typeOf(self) === 'PractitionerRole') {
    const role = await w.read(self);
    const practitioner = w.refOf(role?.['practitioner'], ['Practitioner']);
    const org = w.refOf(role?.['organization'], ['Organization']);
    if (role !== undefined && org !== undefined) orgs.push([org, roleCertainty(w, role)]);
    if (practitioner !== undefined) {
      w.add(practitioner, 'yes');
      await addRoles(w, practitioner, 'maybe', self, orgs);
    }
  }
  await addOrganizations(w, orgs);
  const people = new Map([...w.found].filter(([ref]) => typeOf(ref) !== 'Organization'));
  await addMemberships(w, CARE_TEAMS, people);
  await addMemberships(w, GROUPS, people);
  return w.result();
}
