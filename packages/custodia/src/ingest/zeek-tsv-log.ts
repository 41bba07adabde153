/**
 * A Zeek conn.log in Zeek's ASCII (TSV) format: a header of `#` directives, then one
 * connection per line.
 *
 *   #separator \x09
 *   #set_separator	,
 *   #empty_field	(empty)
 *   #unset_field	-
 *   #path	conn
 *   #open	2020-06-05-14-48-32
 *   #fields	ts	uid	id.orig_h	…
 *   #types	time	string	addr	…
 *   1591367999.305988	CazOhH2qDUiJTWMCY	192.168.4.76	…
 *   #close	2020-06-05-14-48-32
 *
 * (docs.zeek.org, "Zeek Log Formats and Inspection".) `#separator` is written with its
 * value `\x`-escaped after a space; every other directive is split by the separator.
 * Logs concatenated after `#close` start a new header, which replaces the old one.
 *
 * The file is attacker-controlled. A header that cannot describe conn.log rows (no
 * `#fields` or `#types`, their counts differ, a duplicate or malformed name, a missing
 * required column, a `#path` that is not a conn log) is a bad record at its line, and
 * every data line under it is a bad record too, until a usable header comes.
 */
import type { ZeekFlowRecord, ZeekValue } from '../detect/index.js';
import { excerpt, refuse } from './record-refused.js';
import { ZEEK_CONN_COLUMNS, ZEEK_CONN_REQUIRED, zeekConnRecord, type ZeekRow } from './zeek-conn-row.js';
import { parseZeekType, unescapeZeek, zeekFieldValue, type ZeekMarkers, type ZeekType } from './zeek-tsv-values.js';

const MAX_FIELDS = 512;
const FIELD_NAME = /^[A-Za-z0-9_.]{1,64}$/;

interface Schema {
  readonly fields: readonly string[];
  readonly types: readonly ZeekType[];
  readonly known: readonly boolean[];
}

export class ZeekTsvLog {
  private separator = '\t';
  private markers: ZeekMarkers = { setSeparator: ',', emptyField: '(empty)', unsetField: '-' };
  private fields: string[] | undefined;
  private types: string[] | undefined;
  private schema: Schema | undefined;
  /** Why there is no schema, for the data lines that need one. */
  private noSchema = 'no #fields header before the data';
  /** A refused header line makes the rest of its header unusable, until the next log starts. */
  private broken = false;

  /** The record on a line, or undefined for a header line. Throws RecordRefused. */
  parse(text: string, line: number): ZeekFlowRecord | undefined {
    if (text.startsWith('#')) {
      this.directive(text);
      return undefined;
    }
    if (this.schema === undefined) refuse(this.noSchema);
    return this.row(this.schema, text, line);
  }

  private directive(text: string): void {
    // Hostile input too: a header line decides how every later line is read, so each directive is checked.
    if (text.startsWith('#separator ')) {
      const sep = unescapeZeek(text.slice('#separator '.length));
      if (sep.length === 0 || sep.length > 8) this.refuseHeader(`#separator: not a separator: ${excerpt(sep)}`);
      this.separator = sep;
      this.startLog();
      return;
    }
    const parts = text.split(this.separator, MAX_FIELDS + 2);
    const name = parts[0]!;
    const values = parts.slice(1);
    switch (name) {
      case '#set_separator':
        this.markers = { ...this.markers, setSeparator: this.single(name, values) };
        return;
      case '#empty_field':
        this.markers = { ...this.markers, emptyField: this.single(name, values) };
        return;
      case '#unset_field':
        this.markers = { ...this.markers, unsetField: this.single(name, values) };
        return;
      case '#path': {
        const path = values[0] ?? '';
        if (!path.startsWith('conn')) this.refuseHeader(`#path is ${excerpt(path)}, not a conn log`);
        return;
      }
      case '#fields':
        this.fields = values;
        this.types = undefined;
        this.schema = undefined;
        if (!this.broken) this.noSchema = 'no #types header before the data';
        return;
      case '#types':
        this.types = values;
        this.schema = undefined;
        this.buildSchema();
        return;
      case '#close':
        this.startLog();
        this.noSchema = 'data after #close, before a new header';
        return;
      default:
        return; // #open and directives of later Zeek versions say nothing about the rows
    }
  }

  private startLog(): void {
    this.fields = undefined;
    this.types = undefined;
    this.schema = undefined;
    this.broken = false;
    this.noSchema = 'no #fields header before the data';
  }

  private single(name: string, values: readonly string[]): string {
    if (values.length !== 1 || values[0]!.length === 0 || values[0]!.length > 16) this.refuseHeader(`${name}: not one short value`);
    return unescapeZeek(values[0]!);
  }

  private refuseHeader(reason: string): never {
    this.schema = undefined;
    this.broken = true;
    this.noSchema = `no usable header (${reason})`;
    refuse(reason);
  }

  private buildSchema(): void {
    const fields = this.fields;
    const types = this.types!;
    if (this.broken) refuse(this.noSchema);
    if (fields === undefined) this.refuseHeader('#types before #fields');
    if (fields.length > MAX_FIELDS) this.refuseHeader(`more than ${MAX_FIELDS} fields`);
    if (fields.length !== types.length) this.refuseHeader(`#fields names ${fields.length} columns, #types ${types.length}`);
    const seen = new Set<string>();
    for (const f of fields) {
      if (!FIELD_NAME.test(f)) this.refuseHeader(`#fields: not a field name: ${excerpt(f)}`);
      if (seen.has(f)) this.refuseHeader(`#fields: ${excerpt(f)} twice`);
      seen.add(f);
    }
    for (const r of ZEEK_CONN_REQUIRED) if (!seen.has(r)) this.refuseHeader(`#fields: no ${r} column, not a conn log`);
    const parsed = types.map((t) => parseZeekType(t) ?? this.refuseHeader(`#types: not a type: ${excerpt(t)}`));
    this.schema = { fields, types: parsed, known: fields.map((f) => ZEEK_CONN_COLUMNS.has(f)) };
  }

  private row(schema: Schema, text: string, line: number): ZeekFlowRecord {
    // Hostile input: a bounded line from an untrusted log; each value is typed by #types, then checked as Conn::Info.
    const values = text.split(this.separator, schema.fields.length + 1);
    const n = schema.fields.length;
    if (values.length !== n) refuse(`${values.length > n ? `more than ${n}` : values.length} fields, the header declares ${n}`);
    const row: ZeekRow = Object.create(null) as ZeekRow;
    let extra: Record<string, ZeekValue> | undefined;
    for (let i = 0; i < values.length; i++) {
      const name = schema.fields[i]!;
      const value = zeekFieldValue(values[i]!, schema.types[i]!, name, this.markers);
      if (schema.known[i]) row[name] = value;
      else if (value !== null) (extra ??= Object.create(null) as Record<string, ZeekValue>)[name] = value;
    }
    return zeekConnRecord(row, line, extra);
  }
}
