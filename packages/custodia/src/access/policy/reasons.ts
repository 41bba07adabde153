/**
 * Human-readable descriptions of provisions for decision reasons. They name references and
 * codes only (never displays or other clinical content).
 */
import type { CodeRef, CompiledProvision } from './consent-model.js';

function code(c: CodeRef): string {
  return c.code ?? '?';
}

/** e.g. `actor Practitioner/f204; action access|correct` or `everything`. */
export function describeConditions(p: CompiledProvision): string {
  const parts: string[] = [];
  if (p.actors.length > 0) parts.push(`actor ${p.actors.map((a) => (a.side === 'data' ? `${a.text} (${a.roles.map(code).join('|')})` : a.text)).join('|')}`);
  if (p.actions.length > 0) parts.push(`action ${p.actions.map((a) => a.map(code).join('/')).join('|')}`);
  if (p.purposes.length > 0) parts.push(`purpose ${p.purposes.map(code).join('|')}`);
  if (p.securityLabels.length > 0) parts.push(`label ${p.securityLabels.map(code).join('|')}`);
  if (p.classes.length > 0) parts.push(`class ${p.classes.map(code).join('|')}`);
  if (p.codes.length > 0) parts.push(`code ${p.codes.map((cc) => cc.map((c) => `${c.system ?? '?'}|${code(c)}`).join('/')).join(' or ')}`);
  if (p.data.length > 0) parts.push(`data ${p.data.map((d) => `${d.text} (${d.meaning})`).join('|')}`);
  if (p.period !== undefined) parts.push(`period ${p.period.text}`);
  if (p.dataPeriod !== undefined) parts.push(`dataPeriod ${p.dataPeriod.text}`);
  return parts.length === 0 ? 'everything' : parts.join('; ');
}

/** e.g. `Consent/x provision.provision[0]: deny for actor Practitioner/f204`. */
export function describeProvision(consent: string, p: CompiledProvision): string {
  return `${consent} ${p.path}: ${p.type} for ${describeConditions(p)}`;
}
