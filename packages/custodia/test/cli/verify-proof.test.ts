/**
 * `custodia ledger verify-proof` as an auditor runs it (the built binary, no server, no
 * database): a `$access-log` Bundle saved from a vault verifies under the log's pinned
 * key with exit 0; the same Bundle also verifies with a verifier written here from RFC
 * 9162 §2.1.3.2 and C2SP signed-note alone (node:crypto, nothing from src/ledger); and
 * every tampering — an entry, a proof hash, an AuditEvent, the key, a checkpoint of
 * another log, a missing proof, hostile JSON, an oversized file — fails with exit 1,
 * naming the failure.
 */
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCustodia } from '../helpers/spawn-cli.js';
import { startTestVault, type TestVault } from '../helpers/test-vault.js';
import { bearer, seededVault, type Users } from '../api/access-fixtures.js';

type Json = any;

/**
 * An independent verifier, from the specifications only: the checkpoint's Ed25519
 * signature (C2SP signed-note: key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]), then for
 * every entry given in full, its leaf hash SHA-256(0x00 ‖ entry) and the root recomputed
 * from its audit path (RFC 9162 §2.1.3.2), against the checkpoint's root.
 */
function independentlyVerify(bundle: Json, vkey: string): { size: number; checked: number } {
  const [name, keyIdHex, keyB64] = [vkey.slice(0, vkey.indexOf('+')), vkey.split('+')[1]!, vkey.slice(vkey.indexOf('+', vkey.indexOf('+') + 1) + 1)];
  const key = Buffer.from(keyB64, 'base64');
  expect(key[0]).toBe(0x01);
  expect(createHash('sha256').update(`${name}\n`).update(key).digest().subarray(0, 4).toString('hex')).toBe(keyIdHex);
  const proof = bundle.entry.find((e: Json) => e.resource.resourceType === 'Parameters').resource;
  const param = (n: string): Json => proof.parameter.find((p: Json) => p.name === n);
  const note: string = param('checkpoint').valueString;
  const split = note.lastIndexOf('\n\n');
  const text = note.slice(0, split + 1);
  const sig = note
    .slice(split + 2)
    .split('\n')
    .filter((l) => l.startsWith(`\u2014 ${name} `))
    .map((l) => Buffer.from(l.slice(`\u2014 ${name} `.length), 'base64'))
    .find((s) => s.subarray(0, 4).toString('hex') === keyIdHex)!;
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.subarray(1).toString('base64url') }, format: 'jwk' });
  expect(verifySignature(null, Buffer.from(text), publicKey, sig.subarray(4))).toBe(true);
  const [origin, sizeLine, rootLine] = text.split('\n');
  expect(origin).toBe(name);
  // The signed chain head: the same signed-note rules, same key; its size is the checkpoint's.
  const head: string = param('head').valueString;
  const headSplit = head.lastIndexOf('\n\n');
  const headText = head.slice(0, headSplit + 1);
  const headSig = Buffer.from(head.slice(headSplit + 2).trim().slice(`\u2014 ${name} `.length), 'base64');
  expect(headSig.subarray(0, 4).toString('hex')).toBe(keyIdHex);
  expect(verifySignature(null, Buffer.from(headText), publicKey, headSig.subarray(4))).toBe(true);
  expect(headText.split('\n').slice(0, 4)).toEqual([name, 'custodia patient-chain head v1', `Patient/${param('patient').valueReference.reference.slice('Patient/'.length)}`, sizeLine]);
  const size = Number(sizeLine);
  const root = Buffer.from(rootLine!, 'base64');
  const node = (l: Buffer, r: Buffer): Buffer => createHash('sha256').update(Buffer.of(1)).update(l).update(r).digest();
  let checked = 0;
  for (const entry of proof.parameter.filter((p: Json) => p.name === 'entry')) {
    const part = (n: string): Json[] => entry.part.filter((p: Json) => p.name === n);
    const index = Number(part('index')[0].valueString);
    const leaf = Buffer.from(part('leafHash')[0].valueBase64Binary, 'base64');
    const data = part('data')[0]?.valueBase64Binary;
    if (data !== undefined) {
      expect(createHash('sha256').update(Buffer.of(0)).update(Buffer.from(data, 'base64')).digest().equals(leaf)).toBe(true);
      checked++;
    }
    // RFC 9162 §2.1.3.2.
    let fn = index;
    let sn = size - 1;
    let r: Buffer<ArrayBufferLike> = leaf;
    for (const p of part('inclusionProof').map((x) => Buffer.from(x.valueBase64Binary, 'base64'))) {
      expect(sn).toBeGreaterThan(0);
      if (fn % 2 === 1 || fn === sn) {
        r = node(p, r);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        r = node(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    expect(sn).toBe(0);
    expect(r.equals(root)).toBe(true);
  }
  return { size, checked };
}

describe('custodia ledger verify-proof', () => {
  let dir: string;
  let a: TestVault;
  let b: TestVault;
  let users: Users;
  let vkeyA: string;
  let vkeyB: string;
  /** p1's access log as the privacy officer gets it (every entry in full), and as p1 gets it (one shared entry withheld). */
  let full: Json;
  let own: Json;
  let other: Json;

  const save = (name: string, content: string | Buffer | Json): string => {
    const file = join(dir, name);
    writeFileSync(file, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content));
    return file;
  };
  const verify = (file: string, ...args: string[]) => runCustodia(['ledger', 'verify-proof', file, ...args]);
  const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  const proofOf = (bundle: Json): Json => bundle.entry.find((e: Json) => e.resource.resourceType === 'Parameters').resource;
  const entries = (bundle: Json): Json[] => proofOf(bundle).parameter.filter((p: Json) => p.name === 'entry');
  const part = (entry: Json, name: string): Json => entry.part.find((p: Json) => p.name === name);
  const withheldIn = (bundle: Json): number => entries(bundle).filter((e) => part(e, 'withheld') !== undefined).length;
  const expectFailure = (file: string, message: RegExp, vkey = vkeyA): void => {
    const r = verify(file, '--vkey', vkey);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^FAILED: /);
    expect(r.stdout).toMatch(message);
    expect(r.stderr).toBe('');
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-verify-proof-'));
    ({ t: a, users } = await seededVault('sqlite'));
    const clinician = bearer(await users.token('clinician'));
    expect((await a.request('GET', '/fhir/Patient/p1', undefined, clinician)).status).toBe(200);
    expect((await a.request('GET', '/fhir/Patient?_id=p1,p2', undefined, clinician)).status).toBe(200);
    expect((await a.request('GET', '/fhir/Observation?subject=Patient/p1', undefined, clinician)).status).toBe(200);
    const got = await a.request('GET', '/fhir/Patient/p1/$access-log', undefined, bearer(await users.token('privacy-officer')));
    expect(got.status).toBe(200);
    full = got.body;
    own = (await a.request('GET', '/fhir/Patient/p1/$access-log', undefined, bearer(await users.token('patient')))).body;
    vkeyA = a.vault.ledger.verifierKey;
    // Another vault: another log, with the same origin (both are 127.0.0.1:8080) but its own key.
    b = await startTestVault('sqlite', { seed: 'another-log' });
    expect((await b.request('PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1' })).status).toBe(201);
    for (let i = 0; i < 5; i++) await b.request('GET', '/fhir/Patient/p1');
    other = (await b.request('GET', '/fhir/Patient/p1/$access-log')).body;
    vkeyB = b.vault.ledger.verifierKey;
    expect(vkeyB).not.toBe(vkeyA);
  }, 180_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies a saved access log under the pinned key: exit 0 and a summary', () => {
    const r = verify(save('full.json', full), '--vkey', vkeyA);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const n = entries(full).length;
    expect(n).toBeGreaterThan(5);
    expect(r.stdout).toContain('Patient/p1');
    expect(r.stdout).toContain(`Verified: ${n} event(s)`);
    expect(r.stdout).toMatch(/Signed by: .*\+[0-9a-f]{8}\+/);
    expect(r.stdout).toMatch(/OK: every event in the file is in the signed log as shown, and none about this patient is missing between the start of the run and ledger index \d+/);
    const json = JSON.parse(verify(save('full.json', full), '--vkey', vkeyA, '--json').stdout);
    expect(json).toMatchObject({ ok: true, patient: 'p1', verified: n, withheld: 0, keyPinned: true, complete: true, gaps: [] });
  });

  it('the same Bundle verifies with an independent RFC 9162 / signed-note verifier written in this test', () => {
    const { checked } = independentlyVerify(full, vkeyA);
    expect(checked).toBe(entries(full).length);
    // The patient's copy: the events shared with another patient are proven by their leaf hashes only.
    expect(independentlyVerify(own, vkeyA).checked).toBe(entries(own).length - withheldIn(own));
  });

  it("a patient's copy verifies too, complete: the search that named p1 and p2 is there as p1's own account of it", () => {
    const r = verify(save('own.json', own), '--vkey', vkeyA);
    expect(r.code, r.stdout).toBe(0);
    expect(withheldIn(own)).toBe(0);
    const account = own.entry.map((e: Json) => e.resource).find((e: Json) => e.meta?.tag?.[0]?.code === 'account');
    expect(account.subtype[0].code).toBe('search-type');
    // Neither the AuditEvents nor the entries' bytes name the other patient: as an id ("p2") or a
    // reference (Patient/p2). Not a bare /p2/: a random salt or id in base64 holds "p2" about once in a hundred.
    const namesP2 = /"p2"|Patient\/p2\b/;
    expect(JSON.stringify(own.entry.filter((e: Json) => e.resource.resourceType === 'AuditEvent'))).not.toMatch(namesP2);
    for (const e of entries(own)) expect(Buffer.from(part(e, 'data').valueBase64Binary, 'base64').toString('utf8')).not.toMatch(namesP2);
    expect(r.stdout).toMatch(/none about this patient is missing/);
  });

  it('an entry left out of the list, or a list that does not start where the chain does, fails', () => {
    const cut = copy(full);
    const params = proofOf(cut).parameter as Json[];
    const second = params.indexOf(entries(cut)[1]);
    const id = `ledger-${part(params[second], 'index').valueString}`;
    params.splice(second, 1);
    cut.entry = cut.entry.filter((e: Json) => e.resource.id !== id);
    expectFailure(save('cut.json', cut), /Entry 1 \(ledger index \d+\) follows ledger index \d+ in the patient's chain, but the list has \d+ before it: entries were left out/);
    const headless = copy(full);
    const hp = proofOf(headless).parameter as Json[];
    const firstId = `ledger-${part(entries(headless)[0], 'index').valueString}`;
    hp.splice(hp.indexOf(entries(headless)[0]), 1);
    headless.entry = headless.entry.filter((e: Json) => e.resource.id !== firstId);
    expectFailure(save('headless.json', headless), /Entry 0 \(ledger index \d+\) follows ledger index \d+ in the patient's chain, but the list has nothing before it/);
  });

  it("the end of the list is held to the log's signed head; --earlier convicts a head signed to match a shortened list", async () => {
    const r = verify(save('full-head.json', full), '--vkey', vkeyA, '--json');
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ ok: true, reachesHead: true });
    expect(json.head).toBe(json.indexes[json.indexes.length - 1]);
    expect(verify(save('full-head-text.json', full), '--vkey', vkeyA).stdout).toMatch(/Chain head: the log signed that the patient's newest entry among the checkpoint's \d+ is \d+, and the run reaches it/);
    // The newest entry left off the end: the honest head no longer matches.
    const cut = copy(full);
    const params = proofOf(cut).parameter as Json[];
    const last = entries(cut)[entries(cut).length - 1];
    const lastIndex = Number(part(last, 'index').valueString);
    params.splice(params.indexOf(last), 1);
    cut.entry = cut.entry.filter((e: Json) => e.resource.id !== `ledger-${lastIndex}`);
    expectFailure(save('end-cut.json', cut), /yet the list ends at \d+ and offers no next page: entries were left off the end/);
    // The same list under a head the log signed to match it passes alone …
    const size = Number(params.find((p: Json) => p.name === 'checkpoint').valueString.split('\n')[1]);
    params.find((p: Json) => p.name === 'head').valueString = a.vault.ledger.signChainHead('p1', size, Number(part(entries(cut)[entries(cut).length - 1], 'index').valueString));
    const lying = save('lying.json', cut);
    expect(verify(lying, '--vkey', vkeyA).code).toBe(0);
    // … until a later access log shows what it withheld.
    expect((await a.request('GET', '/fhir/Patient/p1', undefined, bearer(await users.token('clinician')))).status).toBe(200);
    const later = save('later.json', (await a.request('GET', '/fhir/Patient/p1/$access-log', undefined, bearer(await users.token('privacy-officer')))).body);
    const convicted = verify(later, '--vkey', vkeyA, '--earlier', lying);
    expect(convicted.code, convicted.stdout + convicted.stderr).toBe(1);
    expect(convicted.stdout).toMatch(new RegExp(`^FAILED: Ledger index ${lastIndex} is in Patient/p1's chain .* the earlier Bundle withheld it`));
    const honest = verify(later, '--vkey', vkeyA, '--earlier', save('honest.json', full));
    expect(honest.code, honest.stdout + honest.stderr).toBe(0);
    expect(honest.stdout).toMatch(/Earlier file: consistent/);
    // The files the wrong way round is a usage error.
    expect(verify(save('honest2.json', full), '--vkey', vkeyA, '--earlier', later).code).toBe(2);
  });

  it('a changed entry fails, whether or not its leaf hash was changed to match', () => {
    const changed = copy(full);
    const data = part(entries(changed)[1], 'data');
    const flip = (c: string): string => (c === 'A' ? 'B' : 'A');
    data.valueBase64Binary = Buffer.from(Buffer.from(data.valueBase64Binary, 'base64').toString('utf8').replace(/"salt":"(.)/, (_m, c: string) => `"salt":"${flip(c)}`)).toString('base64');
    expectFailure(save('changed-entry.json', changed), /Entry 1 \(ledger index \d+\): the entry's bytes do not hash to its leaf hash/);
    part(entries(changed)[1], 'leafHash').valueBase64Binary = createHash('sha256').update(Buffer.of(0)).update(Buffer.from(data.valueBase64Binary, 'base64')).digest('base64');
    expectFailure(save('changed-entry-and-leaf.json', changed), /Entry 1 \(ledger index \d+\): its inclusion proof does not lead to the checkpoint's root/);
  });

  it('a changed proof hash fails', () => {
    const changed = copy(full);
    const hash = part(entries(changed)[0], 'inclusionProof');
    const bytes = Buffer.from(hash.valueBase64Binary, 'base64');
    bytes[0]! ^= 1;
    hash.valueBase64Binary = bytes.toString('base64');
    expectFailure(save('changed-proof.json', changed), /Entry 0 \(ledger index \d+\): its inclusion proof does not lead to the checkpoint's root/);
  });

  it('an AuditEvent that says something its entry does not fails', () => {
    const changed = copy(full);
    const event = changed.entry.find((e: Json) => e.resource.resourceType === 'AuditEvent').resource;
    event.agent[0].who = { reference: 'Practitioner/someone-else' };
    expectFailure(save('changed-event.json', changed), /AuditEvent\/ledger-\d+ does not match its entry/);
    const unmarked = copy(own);
    delete unmarked.entry.find((e: Json) => e.resource.meta?.tag !== undefined).resource.meta;
    expectFailure(save('unmarked.json', unmarked), /AuditEvent\/ledger-\d+ does not match its entry/);
  });

  it('the wrong key, and a checkpoint of another log, fail', () => {
    const file = save('full.json', full);
    expectFailure(file, /The checkpoint is not signed by the log key/, vkeyB);
    const swapped = copy(full);
    proofOf(swapped).parameter.find((p: Json) => p.name === 'checkpoint').valueString = proofOf(other).parameter.find((p: Json) => p.name === 'checkpoint').valueString;
    expectFailure(save('other-checkpoint.json', swapped), /The checkpoint is not signed by the log key/);
    // Even under that other log's key, the entries are not in its tree.
    expectFailure(save('other-checkpoint.json', swapped), /inclusion proof does not lead to the checkpoint's root|is beyond the checkpoint/, vkeyB);
  });

  it('an AuditEvent without a proof, an entry about someone else, and a repeated entry fail', () => {
    const extra = copy(full);
    const event = copy(extra.entry[0]);
    event.resource.id = 'ledger-999999';
    extra.entry.unshift(event);
    expectFailure(save('extra-event.json', extra), /AuditEvent\/ledger-999999 has no proof/);
    const renamed = copy(full);
    proofOf(renamed).parameter.find((p: Json) => p.name === 'patient').valueReference.reference = 'Patient/p2';
    expectFailure(save('renamed.json', renamed), /the event is not about Patient\/p2/);
    const repeated = copy(full);
    const params = proofOf(repeated).parameter;
    params.push(copy(params.find((p: Json) => p.name === 'entry')));
    expectFailure(save('repeated.json', repeated), /out of order or repeated/);
  });

  it('hostile files fail: not JSON, duplicate member names, unknown elements, oversized', () => {
    expectFailure(save('not-json.json', '{"resourceType": "Bundle",'), /does not parse as JSON/);
    const text = JSON.stringify(full);
    expectFailure(save('duplicate.json', text.replace('"type":"collection"', '"type":"collection","type":"collection"')), /a member name is repeated/);
    expectFailure(save('not-utf8.json', Buffer.concat([Buffer.from(text.slice(0, 10)), Buffer.of(0xff), Buffer.from(text.slice(10))])), /it is not UTF-8/);
    const odd = copy(full);
    proofOf(odd).parameter.push({ name: 'note', valueString: 'trust me' });
    expectFailure(save('unknown-parameter.json', odd), /unknown parameter/);
    const big = save('big.json', text);
    truncateSync(big, 64 * 1024 * 1024 + 1); // sparse: larger than the limit without writing it
    expectFailure(big, /larger than 67108864 bytes/);
  });

  it('needs a pinned key unless told to trust the one in the file; a malformed key is a usage error', () => {
    const file = save('full.json', full);
    const none = verify(file);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/verifier key/);
    const embedded = verify(file, '--trust-embedded-vkey');
    expect(embedded.code, embedded.stdout).toBe(0);
    expect(embedded.stdout).toMatch(/taken from the file, NOT pinned/);
    const bad = verify(file, '--vkey', 'not-a-key');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(verify(join(dir, 'missing.json'), '--vkey', vkeyA).code).toBe(2);
  });
});
