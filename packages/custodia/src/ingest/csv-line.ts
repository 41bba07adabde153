/**
 * The fields of one CSV line (RFC 4180 §2, narrowed). The flow CSVs read here
 * (NSL-KDD, CICFlowMeter) are one record per line and never quote, so a quoted field
 * may not span lines: an unterminated quote refuses the line instead of swallowing the
 * rest of the file. Quotes are still understood within a line (`"a,b"`, `""` for `"`),
 * for files a spreadsheet has re-saved.
 *
 * Hand-written rather than a CSV library: the line splitter already bounds and
 * positions each line, and what is left is ~40 lines whose every refusal we choose.
 */
import { refuse } from './record-refused.js';

export const MAX_CSV_FIELDS = 1024;

/** The fields of `line`. Throws RecordRefused for a broken quote or too many fields. */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) {
    const fields = line.split(',', MAX_CSV_FIELDS + 1);
    if (fields.length > MAX_CSV_FIELDS) refuse(`more than ${MAX_CSV_FIELDS} fields`);
    return fields;
  }
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (fields.length === MAX_CSV_FIELDS) refuse(`more than ${MAX_CSV_FIELDS} fields`);
    if (line[i] === '"') {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = line.indexOf('"', from);
        if (q === -1) refuse('unterminated quoted field');
        value += line.slice(from, q);
        if (line[q + 1] === '"') {
          value += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === line.length) return fields;
      if (line[i] !== ',') refuse('text after a closing quote');
      i++;
    } else {
      const comma = line.indexOf(',', i);
      const end = comma === -1 ? line.length : comma;
      const value = line.slice(i, end);
      if (value.includes('"')) refuse('a quote inside an unquoted field');
      fields.push(value);
      if (comma === -1) return fields;
      i = comma + 1;
    }
  }
}
