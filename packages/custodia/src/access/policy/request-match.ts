/**
 * The request-side conditions of a provision (consent.html, Consent.provision): actor, action,
 * purpose and period. They depend only on the {@link AccessRequest}, so for a fixed request they
 * are constants. Each returns a three-valued match with, for `unknown`, why.
 */
import { ACT_REASON_SYSTEM, CONSENT_ACTION_SYSTEM, PURPOSE_OF_USE_SYSTEM } from './code-systems.js';
import type { AccessRequest, CodeRef, CompiledProvision, Tri } from './consent-model.js';
import { inRange } from './fhir-period.js';

export interface Match {
  readonly value: Tri;
  /** For `unknown`: which conditions could not be checked. */
  readonly unknown: readonly string[];
}

export const YES: Match = { value: 'yes', unknown: [] };
export const NO: Match = { value: 'no', unknown: [] };
export function unknown(why: string): Match {
  return { value: 'unknown', unknown: [why] };
}

/** Kleene OR over alternatives: yes if any is yes, else unknown if any is unknown, else no. Empty: yes (no condition). */
export function anyOf(matches: readonly Match[]): Match {
  if (matches.length === 0) return YES;
  if (matches.some((m) => m.value === 'yes')) return YES;
  const unknowns = matches.filter((m) => m.value === 'unknown');
  return unknowns.length === 0 ? NO : { value: 'unknown', unknown: unknowns.flatMap((m) => m.unknown) };
}

/** Kleene AND over conditions: no if any is no, else unknown if any is unknown, else yes. */
export function allOf(matches: readonly Match[]): Match {
  if (matches.some((m) => m.value === 'no')) return NO;
  const unknowns = matches.filter((m) => m.value === 'unknown');
  return unknowns.length === 0 ? YES : { value: 'unknown', unknown: unknowns.flatMap((m) => m.unknown) };
}

/**
 * v3 PurposeOfUse specialisations used here (v3-ActReason, PurposeOfUse hierarchy): emergency
 * treatment is treatment; break-the-glass and emergency-room treatment are emergency treatment.
 * A request for a specialisation matches a provision naming the general purpose.
 */
const PURPOSE_PARENT: ReadonlyMap<string, string> = new Map([
  ['ETREAT', 'TREAT'],
  ['BTG', 'ETREAT'],
  ['ERTREAT', 'ETREAT'],
]);

/** The purpose and every purpose it specialises, e.g. BTG → [BTG, ETREAT, TREAT]. */
export function purposeAncestry(purpose: string): string[] {
  const out = [purpose];
  for (let p = PURPOSE_PARENT.get(purpose); p !== undefined && out.length < 8; p = PURPOSE_PARENT.get(p)) out.push(p);
  return out;
}

function matchActor(p: CompiledProvision, request: AccessRequest): Match {
  return anyOf(
    p.actors.map((a) => {
      const role = a.roles.map((r) => r.code ?? '?').join('|') || 'no role';
      if (a.side === 'data') return unknown(`actor ${a.text} (${role}) describes the data, not the requester`);
      if (a.reference === undefined) return unknown(`actor ${a.text} is not a literal relative reference`);
      if (!request.actor.references.includes(a.reference)) {
        if (request.actor.possibly?.includes(a.reference) === true) return unknown(`the requester's link to actor ${a.text} is not in effect now`);
        const type = a.reference.slice(0, a.reference.indexOf('/'));
        if (request.actor.unresolvedTypes?.includes(type) === true) return unknown(`the requester's links of type ${type} could not all be looked up`);
        return NO;
      }
      const roleCodes = request.actor.roleCodes;
      if (roleCodes !== undefined && a.roles.length > 0 && !a.roles.some((r) => r.code !== undefined && roleCodes.includes(r.code))) {
        return unknown(`actor ${a.text} is named in role ${role}, which the request does not claim`);
      }
      return YES;
    }),
  );
}

/**
 * consentaction (R4 codesystem-consentaction.html): a read is `access`; `use` and `disclose` may
 * cover a read too, so they match `unknown`. A write is `correct`; `collect` may cover a write
 * (storing new information), so it matches `unknown`.
 */
const RELATED_ACTIONS: Readonly<Record<AccessRequest['action'], readonly string[]>> = {
  access: ['use', 'disclose'],
  correct: ['collect'],
};

function matchAction(p: CompiledProvision, request: AccessRequest): Match {
  return anyOf(
    p.actions.map((concept) =>
      anyOf(
        concept.length === 0
          ? [unknown('an action without coding')]
          : concept.map((c: CodeRef) => {
              if (c.system !== CONSENT_ACTION_SYSTEM || c.code === undefined) return unknown(`action ${c.system ?? '?'}|${c.code ?? '?'} is not a consentaction code`);
              if (c.code === request.action) return YES;
              if (RELATED_ACTIONS[request.action].includes(c.code)) return unknown(`action ${c.code} may include ${request.action}`);
              return NO;
            }),
      ),
    ),
  );
}

function matchPurpose(p: CompiledProvision, request: AccessRequest): Match {
  const ancestry = purposeAncestry(request.purposeOfUse);
  return anyOf(
    p.purposes.map((c) => {
      if ((c.system !== ACT_REASON_SYSTEM && c.system !== PURPOSE_OF_USE_SYSTEM) || c.code === undefined) {
        return unknown(`purpose ${c.system ?? '?'}|${c.code ?? '?'} is not a v3 PurposeOfUse code`);
      }
      return ancestry.includes(c.code) ? YES : NO;
    }),
  );
}

/** All request-side conditions of one provision. */
export function matchRequestSide(p: CompiledProvision, request: AccessRequest): Match {
  const period = p.period === undefined || inRange(p.period, request.now) ? YES : NO;
  return allOf([period, matchActor(p, request), matchAction(p, request), matchPurpose(p, request)]);
}
