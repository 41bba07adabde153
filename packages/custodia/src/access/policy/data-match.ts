/**
 * The data-side conditions of a provision, decided on a {@link DataItem} (type, id, labels)
 * for one evaluation. consent-data-rule.ts builds the same conditions as predicates for SQL;
 * the two are kept separate on purpose and tested equal.
 *
 * - class: `http://hl7.org/fhir/resource-types` codes match the resource type; other classes
 *   (profiles, document formats) cannot be checked: unknown.
 * - securityLabel (consent.html: "if the consent specifies a security label of R then it
 *   applies to all resources that are labeled R or lower … a high water mark"):
 *   confidentiality is compared with the item's effective confidentiality (at least N): a
 *   permit for R covers items up to R; a deny for R covers items at R or above (a deny of R
 *   data that let V data through would defeat its purpose). Other labels match exactly.
 * - code, dataPeriod: cannot be checked on (type, id, labels): unknown.
 * - data: `instance` matches the referenced resource; `related` and `dependents` match it and
 *   unknown-match anything else (which resources relate to it cannot be told here); a versioned
 *   reference only unknown-matches its resource; `authoredby`: unknown.
 */
import { CONFIDENTIALITY_SYSTEM, RESOURCE_TYPES_SYSTEM } from './code-systems.js';
import type { CodeRef, CompiledProvision, DataItem, ProvisionType } from './consent-model.js';
import { NO, YES, allOf, anyOf, unknown, type Match } from './request-match.js';
import { confidentialityRank, effectiveConfidentialityRank, type SecurityLabel } from './security-labels.js';

function matchLabel(type: ProvisionType, entry: CodeRef, labels: readonly SecurityLabel[]): Match {
  if (entry.system === undefined || entry.code === undefined) return unknown('a securityLabel without system or code');
  if (entry.system === CONFIDENTIALITY_SYSTEM) {
    const rank = confidentialityRank({ system: entry.system, code: entry.code });
    if (rank === undefined) return unknown(`confidentiality ${entry.code} is not a v3-Confidentiality code`);
    const effective = effectiveConfidentialityRank(labels);
    return (type === 'deny' ? effective >= rank : effective <= rank) ? YES : NO;
  }
  return labels.some((l) => l.system === entry.system && l.code === entry.code) ? YES : NO;
}

/** All data-side conditions of one provision, for an item whose labels are `labels`. */
export function matchDataSide(p: CompiledProvision, item: DataItem, labels: readonly SecurityLabel[]): Match {
  const ref = `${item.resourceType}/${item.id}`;
  const classes = anyOf(
    p.classes.map((c) =>
      c.system === RESOURCE_TYPES_SYSTEM && c.code !== undefined ? (c.code === item.resourceType ? YES : NO) : unknown(`class ${c.system ?? '?'}|${c.code ?? '?'} cannot be checked on the data`),
    ),
  );
  const securityLabels = anyOf(p.securityLabels.map((l) => matchLabel(p.type, l, labels)));
  const codes = p.codes.length === 0 ? YES : unknown('provision.code cannot be checked on the data');
  const dataPeriod = p.dataPeriod === undefined ? YES : unknown('provision.dataPeriod cannot be checked on the data');
  const data = anyOf(
    p.data.map((d) => {
      if (d.meaning === 'authoredby') return unknown(`data authored by ${d.text} cannot be identified`);
      if (d.reference === undefined) return unknown(`data ${d.text} is not a literal relative reference`);
      if (d.version !== undefined) return d.reference === ref ? unknown(`data ${d.text} names one version only`) : NO;
      if (d.reference === ref) return YES;
      return d.meaning === 'instance' ? NO : unknown(`resources ${d.meaning === 'related' ? 'referenced by' : 'referring to'} ${d.text} cannot be identified`);
    }),
  );
  return allOf([classes, securityLabels, codes, dataPeriod, data]);
}
