/**
 * HTML built from templates in which every interpolated value is escaped (OWASP XSS
 * Prevention Cheat Sheet rule #1: HTML entity encoding for element content and quoted
 * attribute values). Only fragments built by `html` itself are inserted unescaped.
 */
import { createHash } from 'node:crypto';

export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;', '=': '&#61;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=]/g, (c) => ENTITIES[c]!);
}

type Value = string | number | SafeHtml | readonly SafeHtml[] | undefined | null | false;

function render(v: Value): string {
  if (v === undefined || v === null || v === false) return '';
  if (v instanceof SafeHtml) return v.text;
  if (Array.isArray(v)) return (v as readonly SafeHtml[]).map((x) => (x instanceof SafeHtml ? x.text : escapeHtml(String(x)))).join('');
  return escapeHtml(String(v));
}

/** Tagged template: `html\`<p>${userText}</p>\`` escapes `userText`. */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/** The CSP source of an inline `<style>` block (CSP3 §2.3.1 hash-source). */
export function styleHash(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}
