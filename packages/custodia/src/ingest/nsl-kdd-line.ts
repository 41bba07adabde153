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
  NSL_KDD_FLAGS, NSL_KDD_MAX_DIFFICULTY, NSL_KDD_PROTOCOLS, NSL_KDD_SERVICES,
  type GroundTruth, type NslKddFeatures, type NslKddFlag, type NslKddFlowRecord, type NslKddProtocol,
} from '../detect/index.js';
import { splitCsvLine } from './csv-line.js';
import { readCount, readDecimal } from './field-values.js';
import { excerpt, refuse } from './record-refused.js';

const PROTOCOLS = new Set<string>(NSL_KDD_PROTOCOLS);
const FLAGS = new Set<string>(NSL_KDD_FLAGS);
const SERVICES = new Set<string>(NSL_KDD_SERVICES);
const LABEL = /^[A-Za-z0-9_-]{1,64}$/;

function symbol(domain: ReadonlySet<string>, name: string, text: string): string {
  if (!domain.has(text)) refuse(`${name}: not in the data set's domain: ${excerpt(text)}`);
  return text;
}

function binary(name: string, text: string): number {
  if (text !== '0' && text !== '1') refuse(`${name}: not 0 or 1: ${excerpt(text)}`);
  return text === '1' ? 1 : 0;
}

function rate(name: string, text: string): number {
  const n = readDecimal(text, name);
  if (n < 0 || n > 1) refuse(`${name}: not a rate in [0, 1]: ${excerpt(text)}`);
  return n;
}

/**
 * The 41 features, in column order, as one object literal: every record gets the same
 * shape (V8 keeps it a fast object, where 41 keyed stores in a loop would not), and the
 * first field out of its domain is the one reported. The tests compare the names and
 * domains with the ARFF header.
 */
function readFeatures(f: readonly string[]): NslKddFeatures {
  return {
    duration: readCount(f[0]!, 'duration'),
    protocol_type: symbol(PROTOCOLS, 'protocol_type', f[1]!) as NslKddProtocol,
    service: symbol(SERVICES, 'service', f[2]!),
    flag: symbol(FLAGS, 'flag', f[3]!) as NslKddFlag,
    src_bytes: readCount(f[4]!, 'src_bytes'),
    dst_bytes: readCount(f[5]!, 'dst_bytes'),
    land: binary('land', f[6]!),
    wrong_fragment: readCount(f[7]!, 'wrong_fragment'),
    urgent: readCount(f[8]!, 'urgent'),
    hot: readCount(f[9]!, 'hot'),
    num_failed_logins: readCount(f[10]!, 'num_failed_logins'),
    logged_in: binary('logged_in', f[11]!),
    num_compromised: readCount(f[12]!, 'num_compromised'),
    root_shell: readCount(f[13]!, 'root_shell'),
    su_attempted: readCount(f[14]!, 'su_attempted'),
    num_root: readCount(f[15]!, 'num_root'),
    num_file_creations: readCount(f[16]!, 'num_file_creations'),
    num_shells: readCount(f[17]!, 'num_shells'),
    num_access_files: readCount(f[18]!, 'num_access_files'),
    num_outbound_cmds: readCount(f[19]!, 'num_outbound_cmds'),
    is_host_login: binary('is_host_login', f[20]!),
    is_guest_login: binary('is_guest_login', f[21]!),
    count: readCount(f[22]!, 'count'),
    srv_count: readCount(f[23]!, 'srv_count'),
    serror_rate: rate('serror_rate', f[24]!),
    srv_serror_rate: rate('srv_serror_rate', f[25]!),
    rerror_rate: rate('rerror_rate', f[26]!),
    srv_rerror_rate: rate('srv_rerror_rate', f[27]!),
    same_srv_rate: rate('same_srv_rate', f[28]!),
    diff_srv_rate: rate('diff_srv_rate', f[29]!),
    srv_diff_host_rate: rate('srv_diff_host_rate', f[30]!),
    dst_host_count: readCount(f[31]!, 'dst_host_count'),
    dst_host_srv_count: readCount(f[32]!, 'dst_host_srv_count'),
    dst_host_same_srv_rate: rate('dst_host_same_srv_rate', f[33]!),
    dst_host_diff_srv_rate: rate('dst_host_diff_srv_rate', f[34]!),
    dst_host_same_src_port_rate: rate('dst_host_same_src_port_rate', f[35]!),
    dst_host_srv_diff_host_rate: rate('dst_host_srv_diff_host_rate', f[36]!),
    dst_host_serror_rate: rate('dst_host_serror_rate', f[37]!),
    dst_host_srv_serror_rate: rate('dst_host_srv_serror_rate', f[38]!),
    dst_host_rerror_rate: rate('dst_host_rerror_rate', f[39]!),
    dst_host_srv_rerror_rate: rate('dst_host_srv_rerror_rate', f[40]!),
  };
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
  // Hostile input: a bounded line from an untrusted file; every field is checked below.
  const fields = splitCsvLine(text);
  if (fields[0] === 'duration' && fields[1] === 'protocol_type') return undefined;
  if (fields.length < 41 || fields.length > 43) refuse(`${fields.length} fields, not 41 to 43`);
  const features = readFeatures(fields);
  const truth = readTruth(fields);
  const record = { source: 'nsl-kdd', line, endpoints: {}, features } as const;
  return truth === undefined ? record : { ...record, truth };
}
