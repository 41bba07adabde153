/**
 * FlowSources over files and byte streams, one per format (`--format nsl-kdd | zeek |
 * cicflowmeter`), and a guess at the format from a file's first line.
 *
 * Files are read as a stream of 64 KiB chunks and never held whole. A bad record is
 * counted in the report and skipped; only a file that cannot be read at all (missing,
 * a directory, an I/O error) ends the iteration, with an `import-failed` error.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FlowFormat, FlowSource } from '../detect/index.js';
import { CustodiaError } from '../kernel/index.js';
import { cicColumn } from './cicflowmeter-columns.js';
import { CicFlowCsv } from './cicflowmeter-csv.js';
import { readFlowStream, type FlowLineParser, type FlowStreamOptions } from './flow-stream.js';
import { parseNslKddLine } from './nsl-kdd-line.js';
import { ZeekLog } from './zeek-log.js';

const CHUNK_BYTES = 64 * 1024;

function lineParser(format: FlowFormat): FlowLineParser {
  switch (format) {
    case 'nsl-kdd':
      return { parse: parseNslKddLine, missingValues: 0 };
    case 'zeek':
      return new ZeekLog();
    case 'cicflowmeter':
      return new CicFlowCsv();
  }
}

/**
 * The flows in a byte stream (a file stream, a socket, buffers), read as `format`.
 *
 * @example
 *   const source = readFlows([Buffer.from('#separator \\x09\n…')], 'zeek');
 */
export function readFlows(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, format: FlowFormat, options: FlowStreamOptions = {}): FlowSource {
  return readFlowStream(chunks, format, lineParser(format), { ...options, invalidUtf8: format === 'cicflowmeter' ? 'replace' : 'refuse' });
}

async function* fileChunks(path: string, onBytes?: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
      onBytes?.((chunk as Buffer).length);
      yield chunk as Buffer;
    }
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new CustodiaError('import-failed', `cannot read the flow file ${basename(path)}${typeof code === 'string' ? ` (${code})` : ''}`, { cause: e });
  }
}

/**
 * The flows in the file at `path`, read as `format`. `onBytes`, when given, is told the
 * size of each chunk as it is read (for a progress bar).
 *
 * @example
 *   const source = openFlowFile('KDDTrain+.txt', 'nsl-kdd');
 *   for await (const flow of source) train(flow);
 *   console.log(source.report().badRecords);
 */
export function openFlowFile(path: string, format: FlowFormat, options: FlowStreamOptions = {}, onBytes?: (bytes: number) => void): FlowSource {
  return readFlows(fileChunks(path, onBytes), format, options);
}

/**
 * The format the first line of `head` (a file's first bytes) looks like, or undefined:
 * a Zeek header (`#separator`, `#fields`) or JSON object is `zeek`; a CSV row of 41–43
 * fields whose second is tcp/udp/icmp, or the NSL-KDD column names, is `nsl-kdd`; a CSV
 * header with a "Flow Duration" column is `cicflowmeter`. A guess only: the reader of
 * the guessed format still checks every line.
 *
 * @example
 *   detectFlowFormat(Buffer.from('#separator \\x09\n#set_separator\t,\n')); // 'zeek'
 */
export function detectFlowFormat(head: Uint8Array): FlowFormat | undefined {
  let text = Buffer.from(head.buffer, head.byteOffset, head.length).toString('utf8');
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const first = text.split('\n').map((l) => l.replace(/\r$/, '')).find((l) => l !== '');
  if (first === undefined) return undefined;
  if (first.startsWith('#separator') || first.startsWith('#fields') || first.startsWith('{')) return 'zeek';
  const fields = first.split(',', 1025);
  if ((fields.length >= 41 && fields.length <= 43 && ['tcp', 'udp', 'icmp'].includes(fields[1]!)) || (fields[0] === 'duration' && fields[1] === 'protocol_type')) return 'nsl-kdd';
  if (fields.some((f) => { const c = cicColumn(f); return c?.kind === 'feature' && c.name === 'flow_duration'; })) return 'cicflowmeter';
  return undefined;
}

/**
 * The format of the file at `path`, from its first 64 KiB.
 *
 * @example
 *   const format = (await detectFlowFileFormat('conn.log')) ?? 'zeek';
 */
export async function detectFlowFileFormat(path: string): Promise<FlowFormat | undefined> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(CHUNK_BYTES);
    const { bytesRead } = await file.read(head, 0, CHUNK_BYTES, 0);
    return detectFlowFormat(head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}
