/**
 * A Zeek conn.log in either of Zeek's formats: JSON when the first line with content is
 * an object (`{`), TSV otherwise. The CLI's `--format zeek` takes both.
 */
import type { ZeekFlowRecord } from '../detect/index.js';
import type { FlowLineParser } from './flow-stream.js';
import { parseZeekJsonLine } from './zeek-json-line.js';
import { ZeekTsvLog } from './zeek-tsv-log.js';

export class ZeekLog implements FlowLineParser {
  readonly missingValues = 0;
  private json: boolean | undefined;
  private readonly tsv = new ZeekTsvLog();

  parse(text: string, line: number): ZeekFlowRecord | undefined {
    if (text === '') return undefined;
    this.json ??= text.startsWith('{');
    return this.json ? parseZeekJsonLine(text, line) : this.tsv.parse(text, line);
  }
}
