/**
 * One line of an NSL-KDD / KDD'99 CSV file (KDDTrain+.txt, KDDTest+.txt, kddcup.data):
 * the 41 features in the order of the NSL-KDD ARFF header, then optionally the label
 * (`normal`, `neptune`, …; KDD'99 writes `normal.`) and optionally NSL-KDD's difficulty
 * level — 41, 42 or 43 fields. A header line naming the columns is skipped.
 *
 * Each line is attacker-controlled: every field is checked against its ARFF domain
 * (symbols from the declared sets, 0/1 flags, rates in [0, 1], counts as non-negative
 * integers) and a line that fails any check is refused whole.
 */
import {
  NSL_KDD_BINARY, NSL_KDD_FEATURES, NSL_KDD_FLAGS, NSL_KDD_MAX_DIFFICULTY, NSL_KDD_PROTOCOLS, NSL_KDD_RATES, NSL_KDD_SERVICES,
  type GroundTruth, type NslKddFeatures, type NslKddFlowRecord,
} from '../detect/index.js';
import { splitCsvLine } from './csv-line.js';
import { readCount, readDecimal } from './field-values.js';
import { excerpt, refuse } from './record-refused.js';

const PROTOCOLS = new Set<string>(NSL_KDD_PROTOCOLS);
const FLAGS = new Set<string>(NSL_KDD_FLAGS);
const SERVICES = new Set<string>(NSL_KDD_SERVICES);
const LABEL = /^[A-Za-z0-9_-]{1,64}$/;

type Kind = 'symbol' | 'binary' | 'rate' | 'count';
const KINDS: readonly Kind[] = NSL_KDD_FEATURES.map((name) =>
  name === 'protocol_type' || name === 'service' || name === 'flag' ? 'symbol' : NSL_KDD_BINARY.includes(name) ? 'binary' : NSL_KDD_RATES.includes(name) ? 'rate' : 'count',
);

function readSymbol(name: string, text: string): string {
  const domain = name === 'protocol_type' ? PROTOCOLS : name === 'flag' ? FLAGS : SERVICES;
  if (!domain.has(text)) refuse(`${name}: not in the data set's domain: ${excerpt(text)}`);
  return text;
}

function readFeature(kind: Kind, name: string, text: string): number | string {
  switch (kind) {
    case 'symbol':
      return readSymbol(name, text);
    case 'binary':
      if (text !== '0' && text !== '1') refuse(`${name}: not 0 or 1: ${excerpt(text)}`);
      return text === '1' ? 1 : 0;
    case 'rate': {
      const n = readDecimal(text, name);
      if (n < 0 || n > 1) refuse(`${name}: not a rate in [0, 1]: ${excerpt(text)}`);
      return n;
    }
    case 'count':
      return readCount(text, name);
  }
}

function readTruth(fields: readonly string[]): GroundTruth | undefined {
  if (fields.length === 41) return undefined;
  const written = fields[41]!;
  const label = written.endsWith('.') ? written.slice(0, -1) : written;
  if (!LABEL.test(label)) refuse(`label: not a class name: ${excerpt(written)}`);
  if (fields.length === 42) return { label };
  const difficulty = readCount(fields[42]!, 'difficulty');
  if (difficulty > NSL_KDD_MAX_DIFFICULTY) refuse(`difficulty: above ${NSL_KDD_MAX_DIFFICULTY}: ${difficulty}`);
  return { label, difficulty };
}

/**
 * The record on `text` (line number `line`), or undefined for a blank or header line.
 * Throws RecordRefused for anything else that is not a valid record.
 *
 * @example
 *   parseNslKddLine('0,tcp,ftp_data,SF,491,0,…,0.00,normal,20', 1)?.truth; // { label: 'normal', difficulty: 20 }
 */
export function parseNslKddLine(text: string, line: number): NslKddFlowRecord | undefined {
  if (text === '') return undefined;
  const fields = splitCsvLine(text);
  if (fields[0] === 'duration' && fields[1] === 'protocol_type') return undefined;
  if (fields.length < 41 || fields.length > 43) refuse(`${fields.length} fields, not 41 to 43`);
  const features: Record<string, number | string> = {};
  for (let i = 0; i < 41; i++) features[NSL_KDD_FEATURES[i]!] = readFeature(KINDS[i]!, NSL_KDD_FEATURES[i]!, fields[i]!);
  const truth = readTruth(fields);
  const record = { source: 'nsl-kdd', line, endpoints: {}, features: features as NslKddFeatures } as const;
  return truth === undefined ? record : { ...record, truth };
}
