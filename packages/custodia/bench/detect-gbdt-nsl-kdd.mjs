// Exploratory, not part of the tests or of `npm run bench`: 5-fold stratified cross-
// validation of the gradient-boosted trees on the NSL-KDD 20% training subset
// (Tavallaee et al., "A Detailed Analysis of the KDD CUP 99 Data Set", CISDA 2009).
//
//   npm run build && node packages/custodia/bench/detect-gbdt-nsl-kdd.mjs PATH/KDDTrain+_20Percent.txt [config]
//
// The 41 features are used as they are, the three categorical ones (protocol_type,
// service, flag) coded by their position in the ARFF header's value lists; column 42 is
// the label (normal or an attack name, mapped to DoS/Probe/R2L/U2R by the usual table),
// column 43 (difficulty) is dropped: it is not a property of the traffic. Reports, over
// the same folds: binary AUC (normal vs attack, from a binary model and from the 5-class
// model's 1 − P(normal)), 5-class macro-F1, per-class recall, and training time.
import { readFileSync } from 'node:fs';
import { denseMatrix, trainGbdt } from '../dist/detect/index.js';
import { seededRandom } from '../dist/kernel/index.js';

const log = (m) => process.stderr.write(`${m}\n`);

const PROTOCOLS = ['tcp', 'udp', 'icmp'];
const SERVICES = ['aol', 'auth', 'bgp', 'courier', 'csnet_ns', 'ctf', 'daytime', 'discard', 'domain', 'domain_u', 'echo', 'eco_i', 'ecr_i', 'efs', 'exec', 'finger', 'ftp', 'ftp_data', 'gopher', 'harvest', 'hostnames', 'http', 'http_2784', 'http_443', 'http_8001', 'imap4', 'IRC', 'iso_tsap', 'klogin', 'kshell', 'ldap', 'link', 'login', 'mtp', 'name', 'netbios_dgm', 'netbios_ns', 'netbios_ssn', 'netstat', 'nnsp', 'nntp', 'ntp_u', 'other', 'pm_dump', 'pop_2', 'pop_3', 'printer', 'private', 'red_i', 'remote_job', 'rje', 'shell', 'smtp', 'sql_net', 'ssh', 'sunrpc', 'supdup', 'systat', 'telnet', 'tftp_u', 'tim_i', 'time', 'urh_i', 'urp_i', 'uucp', 'uucp_path', 'vmnet', 'whois', 'X11', 'Z39_50'];
const FLAGS = ['OTH', 'REJ', 'RSTO', 'RSTOS0', 'RSTR', 'S0', 'S1', 'S2', 'S3', 'SF', 'SH'];
const CLASSES = ['normal', 'DoS', 'Probe', 'R2L', 'U2R'];
// The usual NSL-KDD attack categories (Tavallaee et al. 2009; the KDD'99 task description).
const CATEGORY = {
  normal: 0,
  back: 1, land: 1, neptune: 1, pod: 1, smurf: 1, teardrop: 1, apache2: 1, mailbomb: 1, processtable: 1, udpstorm: 1,
  ipsweep: 2, nmap: 2, portsweep: 2, satan: 2, mscan: 2, saint: 2,
  ftp_write: 3, guess_passwd: 3, imap: 3, multihop: 3, phf: 3, spy: 3, warezclient: 3, warezmaster: 3, sendmail: 3, named: 3, snmpgetattack: 3, snmpguess: 3, xlock: 3, xsnoop: 3, worm: 3,
  buffer_overflow: 4, loadmodule: 4, perl: 4, rootkit: 4, ps: 4, sqlattack: 4, xterm: 4, httptunnel: 4,
};

export function readNslKdd(path) {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const data = new Float64Array(lines.length * 41);
  const y = new Int32Array(lines.length);
  lines.forEach((line, r) => {
    const c = line.split(',');
    if (c.length < 42) throw new Error(`line ${r + 1}: ${c.length} columns`);
    for (let f = 0; f < 41; f++) {
      const v = f === 1 ? PROTOCOLS.indexOf(c[f]) : f === 2 ? SERVICES.indexOf(c[f]) : f === 3 ? FLAGS.indexOf(c[f]) : Number(c[f]);
      data[r * 41 + f] = v < 0 || Number.isNaN(v) ? NaN : v;
    }
    const category = CATEGORY[c[41]];
    if (category === undefined) throw new Error(`line ${r + 1}: unknown label`);
    y[r] = category;
  });
  return { x: denseMatrix(data, 41), y };
}

/** mulberry32 */
function uniform(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Stratified k folds: each class's rows shuffled (seeded) and dealt round-robin. */
export function stratifiedFolds(y, k, seed) {
  const u = uniform(seed);
  const fold = new Int32Array(y.length);
  const byClass = new Map();
  y.forEach((c, i) => (byClass.get(c) ?? byClass.set(c, []).get(c)).push(i));
  let offset = 0;
  for (const rows of [...byClass.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1])) {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(u() * (i + 1));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    rows.forEach((r, i) => (fold[r] = (i + offset) % k));
    offset += rows.length;
  }
  return fold;
}

/** ROC AUC by ranks (Mann–Whitney U), ties averaged. */
export function auc(scores, positive) {
  const idx = [...scores.keys()].sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  let pos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) if (positive[idx[t]]) (rankSum += rank), pos++;
    i = j + 1;
  }
  const neg = idx.length - pos;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

function subset(x, y, rows) {
  const w = x.features;
  const data = new Float64Array(rows.length * w);
  rows.forEach((r, i) => data.set(x.data.subarray(r * w, (r + 1) * w), i * w));
  return { x: denseMatrix(data, w), y: Int32Array.from(rows, (r) => y[r]) };
}

const CONFIGS = {
  default: { rounds: 1000, learningRate: 0.1, numLeaves: 31, earlyStopping: { patience: 30 } },
  small_leaves: { rounds: 1000, learningRate: 0.1, numLeaves: 31, minChildSamples: 3, earlyStopping: { patience: 30 } },
  balanced: { rounds: 1000, learningRate: 0.1, numLeaves: 31, minChildSamples: 3, classWeight: 'balanced', earlyStopping: { patience: 30 } },
};

export function crossValidate(path, configName = 'default', k = 5) {
  const config = CONFIGS[configName];
  const { x, y } = readNslKdd(path);
  const fold = stratifiedFolds(y, k, 2009);
  const binaryScore = new Float64Array(y.length);
  const multiAttackScore = new Float64Array(y.length);
  const predicted = new Int32Array(y.length);
  const times = [];
  const rounds = [];
  for (let f = 0; f < k; f++) {
    const trainRows = [];
    const testRows = [];
    fold.forEach((g, i) => (g === f ? testRows : trainRows).push(i));
    const train = subset(x, y, trainRows);
    const test = subset(x, y, testRows);
    const yBinary = train.y.map((c) => (c === 0 ? 0 : 1));
    const cpu = () => process.cpuUsage().user / 1e6;
    let t0 = cpu();
    const binary = trainGbdt(train.x, yBinary, { ...config, classWeight: config.classWeight, random: seededRandom(f) });
    const tBinary = cpu() - t0;
    t0 = cpu();
    const multi = trainGbdt(train.x, train.y, { ...config, numClasses: 5, random: seededRandom(f) });
    const tMulti = cpu() - t0;
    const pb = binary.model.predictProba(test.x);
    const pm = multi.model.predictProba(test.x);
    const cls = multi.model.predictClass(test.x);
    testRows.forEach((r, i) => {
      binaryScore[r] = pb[2 * i + 1];
      multiAttackScore[r] = 1 - pm[5 * i];
      predicted[r] = cls[i];
    });
    times.push({ binary: tBinary, multiclass: tMulti });
    rounds.push({ binary: binary.bestRounds, multiclass: multi.bestRounds });
    log(`fold ${f + 1}/${k}: binary ${binary.bestRounds} rounds (${binary.roundsRun} run) ${tBinary.toFixed(1)} s, 5-class ${multi.bestRounds} rounds (${multi.roundsRun} run) ${tMulti.toFixed(1)} s CPU`);
  }
  const attack = Array.from(y, (c) => c !== 0);
  const recall = CLASSES.map((_, c) => {
    let hit = 0;
    let n = 0;
    y.forEach((t, i) => t === c && (n++, predicted[i] === c && hit++));
    return { n, recall: hit / n };
  });
  const f1 = CLASSES.map((_, c) => {
    let tp = 0, fp = 0, fn = 0;
    y.forEach((t, i) => {
      if (predicted[i] === c && t === c) tp++;
      else if (predicted[i] === c) fp++;
      else if (t === c) fn++;
    });
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  });
  const confusion = CLASSES.map((_, t) => CLASSES.map((_, p) => y.reduce((n, yt, i) => n + (yt === t && predicted[i] === p ? 1 : 0), 0)));
  return {
    config: configName,
    rows: y.length,
    aucBinaryModel: auc(binaryScore, attack),
    aucFrom5ClassModel: auc(multiAttackScore, attack),
    macroF1: f1.reduce((a, b) => a + b, 0) / f1.length,
    perClass: Object.fromEntries(CLASSES.map((c, i) => [c, { n: recall[i].n, recall: recall[i].recall, f1: f1[i] }])),
    confusion,
    trainCpuSeconds: times,
    bestRounds: rounds,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2];
  if (!path) throw new Error('usage: detect-gbdt-nsl-kdd.mjs KDDTrain+_20Percent.txt [default|small_leaves|balanced]');
  process.stdout.write(`${JSON.stringify(crossValidate(path, process.argv[3] ?? 'default'), null, 1)}\n`);
}
