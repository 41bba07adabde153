/**
 * One audited interaction, in the shape of the IHE Basic Audit Log Patterns (BALP)
 * profile of FHIR R4 AuditEvent (https://profiles.ihe.net/ITI/BALP/): who (agent: the
 * user, the client, on behalf of whom, from where), what (type, subtype, action and the
 * entities touched), which patients, when, why (purpose of use, break-the-glass) and the
 * outcome. app/audit-event-resource.ts turns it into the FHIR resource.
 */

/** AuditEvent.action (R4 valueset audit-event-action). */
export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';

/** AuditEvent.outcome (R4 valueset audit-event-outcome): success, minor failure (a refusal), serious failure, major failure. */
export type AuditOutcome = '0' | '4' | '8' | '12';

/**
 * What kind of event: a FHIR REST interaction (subtype = the R4 restful-interaction code,
 * or the operation name), or one of the vault's security events.
 */
export const AUDIT_TYPES = ['rest', 'login', 'logout', 'authn-failure', 'mfa', 'token', 'consent', 'break-glass', 'key', 'erasure', 'admin', 'export'] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

export interface AuditAgent {
  /** The authenticated subject (`Practitioner/…`, a user name, `client:<id>`, `operator`) or `anonymous`. */
  readonly who: string;
  /** The OAuth client that acted for the user, if any. */
  readonly client?: string;
  /** The person the user acted for (SMART `fhirUser` of a delegated token), if any. */
  readonly onBehalfOf?: string;
  readonly roles?: readonly string[];
  /** Network address the request came from. */
  readonly address?: string;
  /**
   * The id (`jti`) of the bearer token the request carried — or, for a token issuance,
   * of the access token issued — so that everything done with one token can be found
   * (AuditEvent `policy`, IHE BALP OAUTHaccessTokenUse) and the token revoked by id
   * (`custodia token revoke --jti`). Never the token itself.
   */
  readonly token?: string;
}

export interface AuditRecord {
  /** Epoch milliseconds. */
  readonly at: number;
  readonly type: AuditType;
  /** R4 restful-interaction code (`read`, `search-type`, …), an operation (`$erase`), or the security event's own name. */
  readonly subtype: string;
  readonly action: AuditAction;
  readonly outcome: AuditOutcome;
  /** The error code of a failure (docs/errors.md), never its message. */
  readonly outcomeCode?: string;
  readonly agent: AuditAgent;
  /** v3 PurposeOfUse code (TREAT, ETREAT, …). */
  readonly purposeOfUse?: string;
  readonly breakGlass?: boolean;
  /** Ids of the Patients whose data the interaction read, wrote or was refused (for a search: every patient whose data was returned). */
  readonly patients: readonly string[];
  /** What was touched: `Type/id` or `Type/id/_history/v`, at most {@link MAX_ENTITIES}. */
  readonly entities: readonly string[];
  /** True when more entities were touched than are listed. */
  readonly entitiesTruncated?: boolean;
  /** The search or operation parameters as sent (sealed with the entry, never exported in clear). */
  readonly query?: string;
}

export const MAX_ENTITIES = 1000;
const MAX_TEXT = 4096;

const isText = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const isTextList = (v: unknown, maxItems: number, maxText = 256): v is string[] => Array.isArray(v) && v.length <= maxItems && v.every((x) => isText(x, maxText));
const optional = (o: Record<string, unknown>, k: string, test: (v: unknown) => boolean): boolean => !(k in o) || test(o[k]);
const KEYS = ['at', 'type', 'subtype', 'action', 'outcome', 'outcomeCode', 'agent', 'purposeOfUse', 'breakGlass', 'patients', 'entities', 'entitiesTruncated', 'query'];
const AGENT_KEYS = ['who', 'client', 'onBehalfOf', 'roles', 'address', 'token'];

function isAgent(v: unknown): v is AuditAgent {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const a = v as Record<string, unknown>;
  return (
    Object.keys(a).every((k) => AGENT_KEYS.includes(k)) &&
    isText(a['who']) &&
    optional(a, 'client', (x) => isText(x)) &&
    optional(a, 'onBehalfOf', (x) => isText(x)) &&
    optional(a, 'roles', (x) => isTextList(x, 32, 64)) &&
    optional(a, 'address', (x) => isText(x, 64)) &&
    optional(a, 'token', (x) => isText(x, 256))
  );
}

/** Whether `v` is a well-formed record (leaf data is attacker-reachable; ledger-entry.ts checks with this). */
export function isAuditRecord(v: unknown): v is AuditRecord {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const r = v as Record<string, unknown>;
  return (
    Object.keys(r).every((k) => KEYS.includes(k)) &&
    Number.isSafeInteger(r['at']) &&
    (AUDIT_TYPES as readonly unknown[]).includes(r['type']) &&
    isText(r['subtype'], 64) &&
    ['C', 'R', 'U', 'D', 'E'].includes(r['action'] as string) &&
    ['0', '4', '8', '12'].includes(r['outcome'] as string) &&
    optional(r, 'outcomeCode', (x) => isText(x, 64)) &&
    isAgent(r['agent']) &&
    optional(r, 'purposeOfUse', (x) => isText(x, 64)) &&
    optional(r, 'breakGlass', (x) => typeof x === 'boolean') &&
    isTextList(r['patients'], MAX_ENTITIES, 64) &&
    isTextList(r['entities'], MAX_ENTITIES) &&
    optional(r, 'entitiesTruncated', (x) => typeof x === 'boolean') &&
    optional(r, 'query', (x) => isText(x, MAX_TEXT))
  );
}
