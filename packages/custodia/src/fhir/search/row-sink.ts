/**
 * Collects the index rows of one resource version, de-duplicated per (param, grp, values).
 *
 * Rows of a parameter are produced together (`beginParam` marks the start), so duplicates can
 * only sit in the rows added since: they are found by a short linear scan, or by a key set
 * once a parameter has produced many rows in one table. Checkpoints let a composite element
 * whose components do not all produce rows be taken back.
 */
import { emptyIndexRows, type IndexRows, type IndexTable } from './index-rows.js';

const SEP = '\u0000';
/** Rows of one parameter in one table beyond which duplicates are found by key instead of by scan. */
const SCAN_LIMIT = 32;
const TABLES: readonly IndexTable[] = ['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri'];
const INDEX: Readonly<Record<IndexTable, number>> = { string: 0, token: 1, reference: 2, date: 3, number: 4, quantity: 5, uri: 6 };

export class RowSink {
  readonly rows: IndexRows = emptyIndexRows();
  /** The current parameter (incremented by `beginParam`). */
  #param = 0;
  /** Per table (by INDEX): the parameter its window belongs to, where that window starts, and its key set. */
  readonly #owner = [-1, -1, -1, -1, -1, -1, -1];
  readonly #starts = [0, 0, 0, 0, 0, 0, 0];
  readonly #keys: (Set<string> | undefined)[] = [undefined, undefined, undefined, undefined, undefined, undefined, undefined];

  /** The rows collected so far, in every table. */
  get size(): number {
    const r = this.rows;
    return r.string.length + r.token.length + r.reference.length + r.date.length + r.number.length + r.quantity.length + r.uri.length;
  }

  /** Starts the rows of another parameter. */
  beginParam(): void {
    this.#param++;
  }

  /** Where the current parameter's rows start in `table` (set lazily on its first row there). */
  #start(table: IndexTable): number {
    const i = INDEX[table];
    if (this.#owner[i] !== this.#param) {
      this.#owner[i] = this.#param;
      this.#starts[i] = this.rows[table].length;
      this.#keys[i] = undefined;
    }
    return this.#starts[i]!;
  }

  string(param: string, grp: number, value: string, exact: string): void {
    const rows = this.rows.string;
    const start = this.#start('string');
    if (rows.length - start < SCAN_LIMIT) {
      for (let i = start; i < rows.length; i++) {
        const r = rows[i]!;
        if (r.exact === exact && r.grp === grp && r.param === param) return;
      }
    } else if (!this.#fresh('string', `${param}${SEP}${grp}${SEP}${exact}`)) return;
    rows.push({ param, grp, value, exact });
  }

  token(param: string, grp: number, system: string | null, code: string | null, text: string | null): void {
    const rows = this.rows.token;
    const start = this.#start('token');
    if (rows.length - start < SCAN_LIMIT) {
      for (let i = start; i < rows.length; i++) {
        const r = rows[i]!;
        if (r.code === code && r.system === system && r.text === text && r.grp === grp && r.param === param) return;
      }
    } else if (!this.#fresh('token', `${param}${SEP}${grp}${SEP}${system}${SEP}${code}${SEP}${text}`)) return;
    rows.push({ param, grp, system, code, text });
  }

  reference(
    param: string,
    grp: number,
    targetType: string | null,
    targetId: string | null,
    url: string | null,
    identifierSystem: string | null,
    identifierValue: string | null,
  ): void {
    const rows = this.rows.reference;
    const start = this.#start('reference');
    if (rows.length - start < SCAN_LIMIT) {
      for (let i = start; i < rows.length; i++) {
        const r = rows[i]!;
        if (
          r.targetId === targetId &&
          r.targetType === targetType &&
          r.url === url &&
          r.identifierSystem === identifierSystem &&
          r.identifierValue === identifierValue &&
          r.grp === grp &&
          r.param === param
        ) {
          return;
        }
      }
    } else if (!this.#fresh('reference', `${param}${SEP}${grp}${SEP}${targetType}${SEP}${targetId}${SEP}${url}${SEP}${identifierSystem}${SEP}${identifierValue}`)) return;
    rows.push({ param, grp, targetType, targetId, url, identifierSystem, identifierValue });
  }

  date(param: string, grp: number, lo: number, hi: number): void {
    if (this.#rangeFresh('date', param, grp, lo, hi)) this.rows.date.push({ param, grp, lo, hi });
  }

  number(param: string, grp: number, lo: number, hi: number): void {
    if (this.#rangeFresh('number', param, grp, lo, hi)) this.rows.number.push({ param, grp, lo, hi });
  }

  quantity(param: string, grp: number, system: string | null, code: string | null, unit: string | null, lo: number, hi: number): void {
    const rows = this.rows.quantity;
    const start = this.#start('quantity');
    if (rows.length - start < SCAN_LIMIT) {
      for (let i = start; i < rows.length; i++) {
        const r = rows[i]!;
        if (r.lo === lo && r.hi === hi && r.code === code && r.system === system && r.unit === unit && r.grp === grp && r.param === param) return;
      }
    } else if (!this.#fresh('quantity', `${param}${SEP}${grp}${SEP}${system}${SEP}${code}${SEP}${unit}${SEP}${lo}${SEP}${hi}`)) return;
    rows.push({ param, grp, system, code, unit, lo, hi });
  }

  uri(param: string, grp: number, value: string): void {
    const rows = this.rows.uri;
    const start = this.#start('uri');
    if (rows.length - start < SCAN_LIMIT) {
      for (let i = start; i < rows.length; i++) {
        const r = rows[i]!;
        if (r.value === value && r.grp === grp && r.param === param) return;
      }
    } else if (!this.#fresh('uri', `${param}${SEP}${grp}${SEP}${value}`)) return;
    rows.push({ param, grp, value });
  }

  /** The current row counts: `rollback` to them removes every row added since. */
  checkpoint(): Record<IndexTable, number> {
    return { string: this.rows.string.length, token: this.rows.token.length, reference: this.rows.reference.length, date: this.rows.date.length, number: this.rows.number.length, quantity: this.rows.quantity.length, uri: this.rows.uri.length };
  }

  rollback(checkpoint: Record<IndexTable, number>): void {
    for (const t of TABLES) {
      if (this.rows[t].length > checkpoint[t]) {
        this.rows[t].length = checkpoint[t];
        this.#keys[INDEX[t]] = undefined; // rebuilt from the remaining rows if needed
      }
    }
  }

  #rangeFresh(table: 'date' | 'number', param: string, grp: number, lo: number, hi: number): boolean {
    const rows = this.rows[table];
    const start = this.#start(table);
    if (rows.length - start < SCAN_LIMIT) {
      for (let i = start; i < rows.length; i++) {
        const r = rows[i]!;
        if (r.lo === lo && r.hi === hi && r.grp === grp && r.param === param) return false;
      }
      return true;
    }
    return this.#fresh(table, `${param}${SEP}${grp}${SEP}${lo}${SEP}${hi}`);
  }

  /** Key-set de-duplication for a parameter with many rows in `table`. */
  #fresh(table: IndexTable, key: string): boolean {
    const i = INDEX[table];
    let keys = this.#keys[i];
    if (keys === undefined) {
      keys = new Set(this.rows[table].slice(this.#start(table)).map((r) => keyOf(table, r)));
      this.#keys[i] = keys;
    }
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  }
}

/** The de-duplication key of a row already in `table` (the same fields the add methods use). */
function keyOf(table: IndexTable, r: IndexRows[IndexTable][number]): string {
  const row = r as unknown as Record<string, unknown>;
  const head = `${row['param']}${SEP}${row['grp']}${SEP}`;
  switch (table) {
    case 'string':
      return head + String(row['exact']);
    case 'token':
      return `${head}${row['system']}${SEP}${row['code']}${SEP}${row['text']}`;
    case 'reference':
      return `${head}${row['targetType']}${SEP}${row['targetId']}${SEP}${row['url']}${SEP}${row['identifierSystem']}${SEP}${row['identifierValue']}`;
    case 'quantity':
      return `${head}${row['system']}${SEP}${row['code']}${SEP}${row['unit']}${SEP}${row['lo']}${SEP}${row['hi']}`;
    case 'uri':
      return head + String(row['value']);
    default:
      return `${head}${row['lo']}${SEP}${row['hi']}`;
  }
}
