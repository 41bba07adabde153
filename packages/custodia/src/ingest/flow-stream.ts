/**
 * A FlowSource over a stream of bytes: the line splitter bounds and positions each
 * line, the format's line parser turns it into a record, and every line either yields
 * a record, is skipped (blank, header), or is counted as a bad record and skipped. The
 * input is never held whole: one chunk and one line at a time.
 */
import type { BadRecord, FlowFormat, FlowRecord, FlowSource, FlowSourceReport } from '../detect/index.js';
import { LineSplitter, type SplitLine } from './line-splitter.js';
import { RecordRefused } from './record-refused.js';

/** Reads the records of one format, line by line. Stateful: one per input. */
export interface FlowLineParser {
  /** The record on a line; undefined for a line that holds none. Throws RecordRefused. */
  parse(text: string, line: number): FlowRecord | undefined;
  /** Values the parser read as missing rather than refusing the record. */
  readonly missingValues: number;
}

export interface FlowStreamOptions {
  /** Lines longer than this are bad records (default 64 KiB). */
  readonly maxLineBytes?: number;
  /** How many bad records the report lists (default 20); all are counted. */
  readonly maxReportedBad?: number;
}

const MAX_REASON_CHARS = 200;

class Tally {
  records = 0;
  badRecords = 0;
  readonly firstBad: BadRecord[] = [];

  constructor(private readonly limit: number) {}

  bad(line: number, offset: number, reason: string): void {
    this.badRecords++;
    if (this.firstBad.length < this.limit) this.firstBad.push({ line, offset, reason: reason.slice(0, MAX_REASON_CHARS) });
  }
}

/**
 * A FlowSource reading `chunks` (a file stream, a socket, an array of buffers) as
 * `format`, with the parser `parser`. It can be iterated once.
 */
export function readFlowStream(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  format: FlowFormat,
  parser: FlowLineParser,
  options: FlowStreamOptions & { readonly invalidUtf8?: 'refuse' | 'replace' } = {},
): FlowSource {
  const tally = new Tally(options.maxReportedBad ?? 20);
  let started = false;

  function* recordsOf(lines: readonly SplitLine[]): Generator<FlowRecord> {
    for (const l of lines) {
      if ('refused' in l) {
        tally.bad(l.line, l.offset, l.refused);
        continue;
      }
      let record: FlowRecord | undefined;
      try {
        record = parser.parse(l.text, l.line);
      } catch (e) {
        if (!(e instanceof RecordRefused)) throw e;
        tally.bad(l.line, l.offset, e.reason);
        continue;
      }
      if (record !== undefined) {
        tally.records++;
        yield record;
      }
    }
  }

  async function* iterate(): AsyncGenerator<FlowRecord> {
    const splitter = new LineSplitter({ ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }), invalidUtf8: options.invalidUtf8 ?? 'refuse' });
    for await (const chunk of chunks) yield* recordsOf(splitter.push(chunk));
    yield* recordsOf(splitter.end());
  }

  return {
    format,
    report(): FlowSourceReport {
      return { records: tally.records, badRecords: tally.badRecords, firstBad: [...tally.firstBad], missingValues: parser.missingValues };
    },
    [Symbol.asyncIterator](): AsyncIterator<FlowRecord> {
      if (started) throw new Error('a FlowSource is read once');
      started = true;
      return iterate();
    },
  };
}
