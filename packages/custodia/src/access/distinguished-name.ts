/**
 * Distinguished names as text (RFC 4514) and their comparison, for RFC 8705 §2.1.2
 * `tls_client_auth_subject_dn`: "A string representation of the expected subject
 * distinguished name of the certificate, as specified in [RFC4514]".
 *
 * RFC 4514 §2.1 writes the RDNs last-to-first: `CN=lab-system,O=Hospital` is the
 * certificate subject whose ASN.1 sequence is O=Hospital, then CN=lab-system (what
 * `openssl x509 -noout -subject -nameopt RFC2253` prints). Order is significant; a
 * multi-valued RDN (`+`) is a set, so order within it is not. Attribute types compare by
 * OID (a short name and its dotted OID are the same type). Values compare as RFC 4517
 * caseIgnoreMatch does after RFC 4518 preparation, approximately: NFKC, case folded,
 * leading and trailing space dropped, inner runs of space collapsed to one. The text is
 * operator input (the registration) or comes from a certificate the TLS stack verified.
 */
import { CustodiaError } from '../kernel/index.js';

/** One attribute of an RDN: its type (an OID where known, else the upper-cased name) and value. */
export interface DnAttribute {
  readonly type: string;
  readonly value: string;
}

/** RDNs in RFC 4514 order (the most specific, e.g. CN, first); each RDN is a set of attributes. */
export type DistinguishedName = readonly (readonly DnAttribute[])[];

/** RFC 4514 §3 names, and the short names OpenSSL prints (Node's X509Certificate.subject). */
const OIDS: Readonly<Record<string, string>> = Object.freeze({
  CN: '2.5.4.3',
  SN: '2.5.4.4',
  SERIALNUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  TITLE: '2.5.4.12',
  GN: '2.5.4.42',
  GIVENNAME: '2.5.4.42',
  ORGANIZATIONIDENTIFIER: '2.5.4.97',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
});

const MAX_TEXT = 1024;
const MAX_RDNS = 32;

function malformed(message: string): never {
  throw new CustodiaError('request-malformed', `The distinguished name is not valid RFC 4514 text: ${message}`);
}

/** RFC 4514 §3: `descr` (a name) or `numericoid`, optionally written `OID.1.2.3`. */
function attributeType(text: string): string {
  const t = text.trim();
  if (/^[A-Za-z][A-Za-z0-9-]*$/.test(t)) return OIDS[t.toUpperCase()] ?? t.toUpperCase();
  const oid = t.replace(/^oid\./i, '');
  if (/^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/.test(oid)) return oid;
  return malformed(`"${t.slice(0, 40)}" is not an attribute type`);
}

/** Splits `text` at the `separator`s that are not escaped (RFC 4514 §2.4); escapes stay in the parts. */
function splitUnescaped(text: string, separator: ',' | '+' | '\n'): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      if (i + 1 >= text.length) malformed('it ends in a lone backslash');
      current += c + text[i + 1]!;
      i++;
    } else if (c === separator) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

/** The value of `type=value` with its escapes undone (RFC 4514 §3 `string`; hex-encoded BER values are not accepted). */
function unescapeValue(raw: string): string {
  // Unescaped spaces at either end are not part of the value (RFC 4514 §2.4 escapes the ones that are).
  const text = raw.replace(/^ +/, '').replace(/(?<!\\) +$/, '');
  if (text.startsWith('#')) malformed('hex-encoded (#...) values are not supported');
  const chunks: Buffer[] = [];
  let plain = '';
  const flush = (): void => {
    chunks.push(Buffer.from(plain, 'utf8'));
    plain = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      plain += c;
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      flush();
      chunks.push(Buffer.from([parseInt(hex, 16)]));
      i += 2;
    } else {
      plain += text[i + 1] ?? '';
      i += 1;
    }
  }
  flush();
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    return malformed('a \\XX escape is not UTF-8');
  }
}

/** One RDN: `type=value` pairs joined by unescaped `+` (spaces around `+` and `=` allowed). */
function parseRdn(text: string): DnAttribute[] {
  return splitUnescaped(text, '+').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) malformed(`"${pair.trim().slice(0, 40)}" has no "="`);
    const value = unescapeValue(pair.slice(eq + 1));
    if (value.trim() === '') malformed('an attribute has an empty value');
    return { type: attributeType(pair.slice(0, eq)), value };
  });
}

/**
 * Parses RFC 4514 text (`CN=lab-system,O=Hospital`; spaces after the commas are
 * tolerated, as RFC 2253 readers do).
 *
 * @example parseDistinguishedName('CN=lab-system, O=Hospital\\, Inc.')
 */
export function parseDistinguishedName(text: string): DistinguishedName {
  if (text.length > MAX_TEXT) malformed(`it is longer than ${MAX_TEXT} characters`);
  if (/[\u0000-\u001f\u007f]/.test(text)) malformed('it holds control characters (escape them as \\XX)');
  const rdns = splitUnescaped(text, ',');
  if (rdns.length > MAX_RDNS) malformed(`it has more than ${MAX_RDNS} parts`);
  return Object.freeze(rdns.map((rdn) => Object.freeze(parseRdn(rdn))));
}

/**
 * The subject of Node's `X509Certificate.subject` (OpenSSL's multi-line form: one RDN a
 * line in ASN.1 order, RFC 2253 escapes, ` + ` inside a multi-valued RDN), in RFC 4514
 * order.
 */
export function parseCertificateSubject(multiline: string): DistinguishedName {
  const lines = splitUnescaped(multiline, '\n').filter((l) => l.trim() !== '');
  return Object.freeze(lines.reverse().map((line) => Object.freeze(parseRdn(line))));
}

/** RFC 4518 §2 preparation, approximately (see the file comment). */
function prepare(value: string): string {
  return value.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ');
}

function rdnKey(rdn: readonly DnAttribute[]): string {
  return JSON.stringify(rdn.map((a) => [a.type, prepare(a.value)]).sort());
}

/** True when the two names are equal: same RDNs in the same order, each the same set of type/value pairs. */
export function sameDistinguishedName(a: DistinguishedName, b: DistinguishedName): boolean {
  return a.length === b.length && a.every((rdn, i) => rdnKey(rdn) === rdnKey(b[i]!));
}

const NAMES: Readonly<Record<string, string>> = Object.freeze(Object.fromEntries(Object.entries(OIDS).filter(([n]) => n !== 'GIVENNAME').map(([n, oid]) => [oid, n === 'SERIALNUMBER' ? 'SERIALNUMBER' : n])));

/** RFC 4514 §2.4: escape `"+,;<>\` and `=` anywhere, a leading `#` or space, a trailing space; control characters as `\XX`. */
function escapeValue(v: string): string {
  return v
    .replace(/["+,;<=>\\]/g, (c) => `\\${c}`)
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ');
}

/** RFC 4514 text of a name, e.g. for showing back what was registered. */
export function formatDistinguishedName(dn: DistinguishedName): string {
  return dn.map((rdn) => rdn.map((a) => `${NAMES[a.type] ?? a.type}=${escapeValue(a.value)}`).join('+')).join(',');
}
