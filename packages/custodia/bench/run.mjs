#!/usr/bin/env node
// `npm run bench`: one JSON line per figure, each as a ratio to a baseline measured in
// the same run (these machines are noisy; absolute numbers alone mean little).
// Fields: {name, value, unit, baseline, baseline_value, ratio}. Progress goes to stderr.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../dist/server/index.js';
import { labelResource } from '../dist/access/policy/index.js';
import { createVault, importFiles, localImportTarget, resolveConfig } from '../dist/app/index.js';
import { durableCommitsOnce, importOnce, importRecordsOnce, rawInsertOnce, syntheaLines, SYNTHEA_DIRS } from './import.mjs';
import { latency, load, startHello } from './http.mjs';
import { appendFigures, proofLatency } from './ledger.mjs';
import { detectionFigures, PSI } from './detect.mjs';
import { DETECTOR_FOREST_OPTIONS } from '../dist/detect/index.js';
import { modelComparisons, ourModelFigures, sklearnModelFigures } from './detect-models.mjs';
import { holdoutFigures, sklearnHoldoutFigures } from './detect-holdout.mjs';
import { baselineFigures } from './baselines.mjs';

const DURATION = Number(process.env.CUSTODIA_BENCH_SECONDS ?? 10);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (m) => process.stderr.write(`[bench] ${m}\n`);
function emit(name, value, unit, baseline, baselineValue) {
  // Three decimals, or four significant digits for a figure below 1 (1 − AUC is about 1e-4).
  const round = (x) => (Math.abs(x) >= 1 || x === 0 ? Math.round(x * 1000) / 1000 : Number(x.toPrecision(4)));
  process.stdout.write(`${JSON.stringify({ name, value: round(value), unit, baseline, baseline_value: round(baselineValue), ratio: Math.round((value / baselineValue) * 1000) / 1000 })}\n`);
}

// import.synthea
const lines = syntheaLines();
log(`import: ${lines.length} Synthea resources, 3 runs each`);
const raw = [];
const imported = [];
for (let i = 0; i < 3; i++) {
  raw.push(rawInsertOnce(lines));
  imported.push(await importOnce());
}
emit('import.synthea', median(imported), 'resources/s', 'sqlite.raw_insert', median(raw));

// Automatic security labelling (every write labels its resource): the Synthea sample,
// against serialising the same resources (one walk of the same objects). Alternating runs.
log('access: security labels of every Synthea resource, 3 alternating runs');
const parsed = lines.map((l) => JSON.parse(l));
const perSecond = (fn, passes = 20) => {
  const start = performance.now();
  for (let p = 0; p < passes; p++) for (const r of parsed) fn(r);
  return (passes * parsed.length) / ((performance.now() - start) / 1000);
};
for (const r of parsed) labelResource(r); // warm-up
const labelled = [];
const serialised = [];
for (let i = 0; i < 3; i++) {
  serialised.push(perSecond((r) => JSON.stringify(r)));
  labelled.push(perSecond(labelResource));
}
emit('access.label', median(labelled), 'resources/s', 'json.stringify', median(serialised));

// Encryption at rest (issue 4): the same import sealed and in clear, alternating runs.
log('import: encryption on and off, 3 alternating runs each');
const sealedImports = [];
const clearImports = [];
for (let i = 0; i < 3; i++) {
  clearImports.push(await importOnce({ encryption: false }));
  sealedImports.push(await importOnce({ encryption: true }));
}
emit('import.synthea.encrypted', median(sealedImports), 'resources/s', 'import.synthea.clear', median(clearImports));

// The same comparison on whole patient records (transaction Bundles: encounters, observations, claims, …).
log('import: whole patient records, encryption on and off, 3 alternating runs each');
const sealedRecords = [];
const clearRecords = [];
for (let i = 0; i < 3; i++) {
  clearRecords.push(await importRecordsOnce({ encryption: false }));
  sealedRecords.push(await importRecordsOnce({ encryption: true }));
}
emit('import.records.encrypted', median(sealedRecords), 'resources/s', 'import.records.clear', median(clearRecords));

// HTTP: one vault with the Synthea sample, one bare route, in this process.
const dir = mkdtempSync(join(tmpdir(), 'custodia-bench-http-'));
// One clinician token makes ~10k requests/s here, far above a person's default rate limit
// (the operator token is exempt): lift the per-user limit for the measurement.
const vault = await createVault(resolveConfig({ dataDir: dir, logLevel: 'silent', port: 0, rateLimits: { user: { perSecond: 1e6, burst: 1e6 } } }));
await importFiles(localImportTarget(vault.fhir), SYNTHEA_DIRS);
// As `custodia serve` runs it: the sequencer integrates the ledger and signs a checkpoint
// every 1,000 entries or second, on the server's event loop, so the audited figures below
// include it.
const sequencerFailed = (e) => log(`sequencer: ${e}`);
vault.ledger.start(sequencerFailed);
const app = buildServer(vault);
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${app.server.address().port}`;
const hello = await startHello();
const token = await vault.tokens.issue({ subject: 'bench', scope: 'system/*.cruds', ttlSeconds: 3600 });
const headers = { authorization: `Bearer ${token}` };
const patients = lines.map((l) => JSON.parse(l)).filter((r) => r.resourceType === 'Patient');

log(`http: ${DURATION}s per run, 10 connections`);
const helloRun = await load({ url: hello.url, paths: ['/hello'], duration: DURATION });
const helloLatency = await latency({ url: hello.url, paths: ['/hello'] });
const readPaths = patients.map((p) => `/fhir/Patient/${p.id}`);
const readRun = await load({ url: base, paths: readPaths, headers, duration: DURATION });
const readLatency = await latency({ url: base, paths: readPaths, headers });
emit('http.read', readRun.rps, 'requests/s', 'http.hello', helloRun.rps);
emit('http.read.p50', readLatency.p50, 'ms', 'http.hello.p50', helloLatency.p50);
emit('http.read.p99', readLatency.p99, 'ms', 'http.hello.p99', helloLatency.p99);
// Under load, against the same reads one at a time: how much load stretches the tail
// (autocannon reports whole milliseconds, so the bare route's loaded p99 rounds to 0 and
// is no baseline).
emit('http.read.p99_loaded', readRun.p99, 'ms', 'http.read.p99', readLatency.p99);

// The same reads by a clinician: the full decision point (scopes ∩ role ∩ compartment ∩
// consent ∩ labels) against the operator token, which the decision lets through without
// filtering. Runs alternate (operator, clinician) five times; medians, so that drift on
// a noisy machine hits both sides alike.
const clinician = await vault.identity.addUser({ username: 'bench-clinician', role: 'clinician', fhirUser: 'Practitioner/bench', password: 'a long enough bench passphrase' });
const clinicianToken = await vault.tokens.issue({ subject: clinician.user.id, scope: 'user/*.cruds', ttlSeconds: 3600, kind: 'user', role: 'clinician', fhirUser: 'Practitioner/bench' });
const clinicianHeaders = { authorization: `Bearer ${clinicianToken}` };
const operatorRps = [];
const clinicianRps = [];
for (let i = 0; i < 5; i++) {
  operatorRps.push((await load({ url: base, paths: readPaths, headers, duration: DURATION / 2 })).rps);
  clinicianRps.push((await load({ url: base, paths: readPaths, headers: clinicianHeaders, duration: DURATION / 2 })).rps);
}
const authorizedLatency = await latency({ url: base, paths: readPaths, headers: clinicianHeaders });
const operatorLatency = await latency({ url: base, paths: readPaths, headers });
emit('http.read.authorized', median(clinicianRps), 'requests/s', 'http.read.operator', median(operatorRps));
emit('http.read.authorized.p50', authorizedLatency.p50, 'ms', 'http.read.operator.p50', operatorLatency.p50);

const searches = patients.slice(0, 200).map((p) => {
  const family = (p.name?.[0]?.family ?? 'a').slice(0, 4);
  const year = Number((p.birthDate ?? '1950').slice(0, 4)) - 1;
  return `/fhir/Patient?family=${encodeURIComponent(family)}&birthdate=ge${year}-01-01`;
});
const searchRun = await load({ url: base, paths: searches, headers, duration: DURATION });
const searchLatency = await latency({ url: base, paths: searches, headers });
emit('http.search', searchRun.rps, 'requests/s', 'http.hello', helloRun.rps);
emit('http.search.p50', searchLatency.p50, 'ms', 'http.hello.p50', helloLatency.p50);
emit('http.search.p99', searchLatency.p99, 'ms', 'http.hello.p99', helloLatency.p99);
emit('http.search.p99_loaded', searchRun.p99, 'ms', 'http.search.p99', searchLatency.p99);

const commits = durableCommitsOnce(3);
const body = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Bench', given: ['Load'] }], gender: 'other', birthDate: '1990-01-01' });
const createHeaders = { ...headers, 'content-type': 'application/fhir+json', prefer: 'return=minimal' };
const createRun = await load({ url: base, paths: ['/fhir/Patient'], method: 'POST', body, headers: createHeaders, duration: DURATION });
emit('http.create', createRun.rps, 'creates/s', 'sqlite.durable_commit', commits);
const createLatency = await latency({ url: base, paths: ['/fhir/Patient'], method: 'POST', body, headers: createHeaders, count: 300 });
emit('http.create.p99_loaded', createRun.p99, 'ms', 'http.create.p99', createLatency.p99);

// A mixed load, as a hospital's is: 50 clients reading while one client creates patients,
// against the same reads alone, and the creates against the same creates alone (the vault
// as served: audited). Alternating runs, medians.
log('http: reads by id beside one client creating patients, 3 alternating runs');
const createLoad = { paths: ['/fhir/Patient'], method: 'POST', body, headers: createHeaders, connections: 1 };
const readsAlone = [];
const readsBeside = [];
const createsBeside = [];
const createsAlone = [];
for (let i = 0; i < 3; i++) {
  readsAlone.push((await load({ url: base, paths: readPaths, headers, duration: DURATION / 2, connections: 50 })).rps);
  createsAlone.push((await load({ url: base, ...createLoad, duration: DURATION / 2 })).rps);
  const [reads, creates] = await Promise.all([load({ url: base, paths: readPaths, headers, duration: DURATION / 2, connections: 50 }), load({ url: base, ...createLoad, duration: DURATION / 2 })]);
  readsBeside.push(reads.rps);
  createsBeside.push(creates.rps);
}
emit('http.read.beside_creates', median(readsBeside), 'requests/s', 'http.read.c50', median(readsAlone));
emit('http.create.beside_reads', median(createsBeside), 'creates/s', 'http.create.c1', median(createsAlone));
// The creator against one reader's share of the same run: near 1, it waits its turn like any
// of the 51 clients; well below 1, reads starve writes.
emit('http.create.beside_reads.share', median(createsBeside), 'creates/s', 'http.read.beside_creates.per_client', median(readsBeside) / 50);

// A vault with the same data, sealed, with auditing off: the baseline of the audit figure,
// and the sealed side of the encryption figures (so that they measure encryption alone).
const quietDir = mkdtempSync(join(tmpdir(), 'custodia-bench-noaudit-'));
const quietVault = await createVault(resolveConfig({ dataDir: quietDir, logLevel: 'silent', port: 0, ledger: { audit: false }, rateLimits: { user: { perSecond: 1e6, burst: 1e6 } } }));
await importFiles(localImportTarget(quietVault.fhir), SYNTHEA_DIRS);
quietVault.ledger.start(sequencerFailed);
const quietApp = buildServer(quietVault);
await quietApp.listen({ host: '127.0.0.1', port: 0 });
const quietBase = `http://127.0.0.1:${quietApp.server.address().port}`;
const quietHeaders = { authorization: `Bearer ${await quietVault.tokens.issue({ subject: 'bench', scope: 'system/*.cruds', ttlSeconds: 3600 })}` };

// Encryption at rest: reads by id and 50-resource searches (each result opened from its
// envelope, no cache) against a vault with the same data stored in clear; auditing off in both.
const clearDir = mkdtempSync(join(tmpdir(), 'custodia-bench-clear-'));
const clearVault = await createVault(resolveConfig({ dataDir: clearDir, logLevel: 'silent', port: 0, encryption: { encryption: false }, ledger: { audit: false } }));
await importFiles(localImportTarget(clearVault.fhir), SYNTHEA_DIRS);
const clearApp = buildServer(clearVault);
await clearApp.listen({ host: '127.0.0.1', port: 0 });
const clearBase = `http://127.0.0.1:${clearApp.server.address().port}`;
const clearToken = await clearVault.tokens.issue({ subject: 'bench', scope: 'system/*.cruds', ttlSeconds: 3600 });
const clearHeaders = { authorization: `Bearer ${clearToken}` };
const obsSearch = ['/fhir/Observation?code=http://loinc.org|8302-2&_count=50', '/fhir/Observation?category=vital-signs&_count=50', '/fhir/Condition?_count=50'];
const sealedRead = [];
const clearRead = [];
const sealedSearch = [];
const clearSearch = [];
log('encryption: reads and searches, sealed vs clear, 3 alternating runs');
for (let i = 0; i < 3; i++) {
  clearRead.push((await load({ url: clearBase, paths: readPaths, headers: clearHeaders, duration: DURATION / 2 })).rps);
  sealedRead.push((await load({ url: quietBase, paths: readPaths, headers: quietHeaders, duration: DURATION / 2 })).rps);
  clearSearch.push((await load({ url: clearBase, paths: obsSearch, headers: clearHeaders, duration: DURATION / 2 })).rps);
  sealedSearch.push((await load({ url: quietBase, paths: obsSearch, headers: quietHeaders, duration: DURATION / 2 })).rps);
}
emit('http.read.encrypted', median(sealedRead), 'requests/s', 'http.read.clear', median(clearRead));
emit('http.search50.encrypted', median(sealedSearch), 'requests/s', 'http.search50.clear', median(clearSearch));
await clearApp.close();
await clearVault.close();
rmSync(clearDir, { recursive: true, force: true });

// Auditing (issue 5): reads by id, each audited durably before it is answered (group
// commit, by the audit writer thread), against the same data in a vault with auditing off
// (both sealed). With 10 clients a read waits for a flush of the disk, so the figure
// follows fsync latency; with 50 and 100 the flushes are shared and it measures the CPU
// the audit costs. Alternating runs, medians.
// What the 10-client figure is bound by: one read at a time, the time auditing adds to it
// (waiting for its record to reach the disk) against a durable SQLite commit on this disk.
const auditedLatency = await latency({ url: base, paths: readPaths, headers, count: 1000 });
const quietLatency = await latency({ url: quietBase, paths: readPaths, headers: quietHeaders, count: 1000 });
const commitMs = 1000 / durableCommitsOnce(2);
emit('http.read.audited.p50', auditedLatency.p50, 'ms', 'http.read.unaudited.p50', quietLatency.p50);
emit('http.read.audit_wait.p50', auditedLatency.p50 - quietLatency.p50, 'ms', 'sqlite.durable_commit.mean', commitMs);
// Beside each throughput, the CPU this process (the server: its event loop, the audit
// writer thread, V8's helpers; not the load generator, a child) spent per read: what an
// audited read costs whatever the concurrency and the machine's core count. On these
// 2-core machines the audit writer thread shares the cores with the event loop and the
// load generator, so the throughput ratio mixes that cost with contention and, with few
// clients, with the wait for the disk.
const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
async function cpuTimedReads(url, runHeaders, connections) {
  const before = cpuMicros();
  const out = await load({ url, paths: readPaths, headers: runHeaders, duration: DURATION / 2, connections });
  return { rps: out.rps, cpu: (cpuMicros() - before) / out.requests };
}
for (const connections of [10, 50, 100]) {
  const auditedRead = [];
  const quietRead = [];
  log(`audit: reads by id, audited vs not, ${connections} connections, 3 alternating runs`);
  for (let i = 0; i < 3; i++) {
    quietRead.push(await cpuTimedReads(quietBase, quietHeaders, connections));
    auditedRead.push(await cpuTimedReads(base, headers, connections));
  }
  const suffix = connections === 10 ? '' : `.c${connections}`;
  emit(`http.read.audited${suffix}`, median(auditedRead.map((r) => r.rps)), 'requests/s', `http.read.unaudited${suffix}`, median(quietRead.map((r) => r.rps)));
  emit(`http.read.audited${suffix}.cpu`, median(auditedRead.map((r) => r.cpu)), 'µs/request', `http.read.unaudited${suffix}.cpu`, median(quietRead.map((r) => r.cpu)));
}
// Whether the sequencer kept up with the audited reads: the size of the latest signed
// checkpoint against the entries appended, read as the last run ends (a checkpoint covers
// what was appended up to a second, or 1,000 entries, before it).
const checkpointed = (await vault.ledger.log.latestCheckpoint())?.size ?? 0;
emit('ledger.checkpointed', checkpointed, 'entries', 'ledger.appended', await vault.ledger.log.appendedSize());
await quietApp.close();
await quietVault.close();
rmSync(quietDir, { recursive: true, force: true });

await app.close();
await hello.app.close();
await vault.close();
rmSync(dir, { recursive: true, force: true });

// The ledger itself: appends (transactions of 10,000, as group commit batches requests) and
// the sequencer integrating them, against raw SHA-256 leaf hashing of the same entries;
// inclusion proofs at 2^20 entries against a point lookup of one stored hash.
log('ledger: append and sequence 200,000 entries, three rounds between four of raw hashing');
const rates = await appendFigures();
emit('ledger.append', rates.append, 'entries/s', 'sha256.leaf_hash', rates.rawHash);
emit('ledger.sequence', rates.sequence, 'entries/s', 'sha256.leaf_hash', rates.rawHash);
const proofs = await proofLatency();
emit('ledger.proof.inclusion.p50', proofs.p50, 'ms', 'sqlite.hash_lookup.p50', proofs.lookupP50);
emit('ledger.proof.inclusion.p99', proofs.p99, 'ms', 'sqlite.hash_lookup.p99', proofs.lookupP99);

// Device baselines kept between runs (issue 6 §2): a device's keep (snapshot, seal, write
// in batches of 8) and restore (read, open, restore), each against scoring one telemetry
// record with full baselines; and a snapshot's size against its samples' (bench/baselines.mjs).
log('detect: device baselines kept and restored, 500 devices with full baselines, 3 rounds');
const kept = await baselineFigures();
emit('detect.baselines.keep', kept.keep, 'devices/s', 'detect.telemetry.score', kept.score);
emit('detect.baselines.restore', kept.restore, 'devices/s', 'detect.telemetry.score', kept.score);
emit('detect.telemetry.score_with_class', kept.scoreInContext, 'records/s', 'detect.telemetry.score', kept.score);
emit('detect.baselines.snapshot_bytes', kept.snapshotBytes, 'bytes', 'detect.baselines.sample_bytes', kept.sampleBytes);

// Detection (issue 6): the isolation forest against scikit-learn's on the same NSL-KDD
// rows, features and 5 folds: scoring throughput on one core, training time, and the
// cross-validated AUC of a forest trained on normal rows only.
log('detect: isolation forest vs scikit-learn (NSL-KDD 20%, one core)');
// At ψ = 256 (the paper's and scikit-learn's default: `detect.iforest.*`) and at the
// detectors' ψ (`detect.iforest.psi<ψ>.*`).
const detect = detectionFigures(Math.max(3, DURATION / 2));
const psiName = (psi) => (psi === PSI[0] ? '' : `.psi${psi}`);
const detectorPsi = DETECTOR_FOREST_OPTIONS.subsampleSize;
if (detect.sklearn === undefined) log('detect: scikit-learn is not installed (bash packages/custodia/scripts/install-sklearn.sh): comparison skipped');
for (const psi of PSI) {
  const ours = detect.ours[psi];
  const theirs = detect.sklearn?.[psi];
  if (theirs === undefined) {
    log(`detect: ours alone, ψ = ${psi}: ${Math.round(ours.rowsPerSecond)} rows/s, AUC ${ours.auc.toFixed(4)}`);
    continue;
  }
  emit(`detect.iforest${psiName(psi)}.score`, ours.rowsPerSecond, 'rows/s', `sklearn.iforest${psiName(psi)}.score`, theirs.rows_per_second);
  emit(`detect.iforest${psiName(psi)}.train`, ours.trainMs, 'ms', `sklearn.iforest${psiName(psi)}.train`, theirs.train_ms);
  emit(`detect.iforest${psiName(psi)}.auc`, ours.auc, 'AUC', `sklearn.iforest${psiName(psi)}.auc`, theirs.auc);
}
// The unsupervised detector as shipped (its threshold and rare values) against the bare forest it is built on (same ψ), same folds.
emit('detect.unsupervised.auc', detect.ours.detectorAuc, 'AUC', `detect.iforest${psiName(detectorPsi)}.auc`, detect.ours[detectorPsi].auc);

// Detection (issue 6): our gradient-boosted trees and the hybrid (the same trees averaged
// with a random forest, + the isolation forest on normal rows) against scikit-learn's HistGradientBoostingClassifier
// and RandomForestClassifier on the same NSL-KDD rows, features, 5 classes and 5 folds:
// training CPU time per fold, scoring throughput on one core, 5-class macro-F1 and binary
// AUC out of fold, each the mean over three repetitions of the cross-validation
// (bench/detect-models.mjs says why).
log('detect: GBDT and hybrid vs scikit-learn HGB and RF (NSL-KDD 20%, 5 folds × 3 repetitions, one core)');
const models = ourModelFigures(Math.max(2, DURATION / 5), (m) => log(`detect: ${m}`));
const sklearnModels = sklearnModelFigures(models.data, Math.max(2, DURATION / 5));
if (typeof sklearnModels === 'string') {
  log(`detect: ${sklearnModels}: comparison skipped`);
  for (const name of ['gbdt', 'hybrid']) {
    const o = models.ours[name];
    log(`detect: ${name} alone: macro-F1 ${o.macro_f1.toFixed(4)}, AUC ${o.auc.toFixed(5)}, ${o.train_s.toFixed(1)} s CPU/fold, ${Math.round(o.rows_per_second)} rows/s`);
  }
} else {
  for (const l of modelComparisons(models.ours, sklearnModels)) emit(l.name, l.value, l.unit, l.baseline, l.baselineValue);
}

// Attacks of a kind never seen in training (issue 6: "so that attack types never seen in
// training still raise alerts"): leave each attack family out of training in turn, then
// the share of its rows detected and of fold 0's normal rows flagged, mean over the four
// families (bench/detect-holdout.mjs). The hybrid against its own trees as a classifier
// (cut at 0.5), and against scikit-learn's HGB and RF trained on the same rows.
log('detect: attack families never seen in training (NSL-KDD 20%, each of the four left out)');
const holdout = holdoutFigures((m) => log(`detect: ${m}`));
emit('detect.hybrid.unseen_detection', holdout.hybrid.heldOutDetection, 'share detected', 'detect.gbdt.unseen_detection', holdout.gbdt.heldOutDetection);
emit('detect.hybrid.unseen_false_positives', holdout.hybrid.falsePositiveRate, 'share of normal', 'detect.gbdt.unseen_false_positives', holdout.gbdt.falsePositiveRate);
const sklearnHoldout = sklearnHoldoutFigures(holdout.data, holdout.fold);
if (typeof sklearnHoldout === 'string') log(`detect: ${sklearnHoldout}: held-out comparison skipped`);
else {
  for (const [base, suffix] of [['hgb', '.vs_hgb'], ['rf', '.vs_rf']]) {
    emit(`detect.hybrid.unseen_detection${suffix}`, holdout.hybrid.heldOutDetection, 'share detected', `sklearn.${base}.unseen_detection`, sklearnHoldout[base].mean.heldOutDetection);
    emit(`detect.hybrid.unseen_false_positives${suffix}`, holdout.hybrid.falsePositiveRate, 'share of normal', `sklearn.${base}.unseen_false_positives`, sklearnHoldout[base].mean.falsePositiveRate);
  }
}
