/**
 * The audit trail on the FHIR API (issue 5 §5), on every database: AuditEvent search and
 * read and `Patient/{id}/$access-log` are served from the ledger; the privacy officer and
 * the operator read everything, a patient their own events (an event also about others
 * only in part), everyone else is refused, and a patient cannot tell another patient's
 * events, or that patient, from nothing; search filters and pages by patient, date and
 * ledger index; events of an erased patient answer 410 and are counted out of lists;
 * reading the trail is on the trail; every AuditEvent and Bundle is valid R4; the proof
 * Bundle verifies against the log's key.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import type { TestResponse, TestVault } from '../helpers/test-vault.js';
import { bearer, seededVault, type Users } from './access-fixtures.js';
import { compareWithEarlier, verifyAccessLogBundle } from '../../src/app/index.js';
import { decodeEntry, type AuditEntry, type AuditRecord } from '../../src/ledger/index.js';
import { validateResource } from '../../src/fhir/index.js';
import type { LedgerLog } from '../../src/store/index.js';

const REASON = { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Art. 17 request, ticket 4712' }] };

const ids = (r: TestResponse): string[] => (r.body.entry ?? []).filter((e: any) => e.resource.resourceType === 'AuditEvent').map((e: any) => e.resource.id as string);
const indexOf = (id: string): number => Number(id.slice('ledger-'.length));
const patientsIn = (event: any): string[] => (event.entity ?? []).filter((e: any) => e.role?.code === '1').map((e: any) => e.what.reference as string);
const outcome = (r: TestResponse): string => (r.body.entry ?? []).filter((e: any) => e.resource.resourceType === 'OperationOutcome').map((e: any) => e.resource.issue[0].diagnostics).join(' ');

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`AuditEvent and $access-log on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    let po: Record<string, string>;
    let patient: Record<string, string>;
    let clinician: Record<string, string>;
    const get = (url: string, headers: Record<string, string>) => t.request('GET', url, undefined, headers);
    const log = (): LedgerLog => t.vault.ledger.log;
    /** The audit records appended while `fn` ran. */
    const recordedBy = async (fn: () => Promise<unknown>): Promise<AuditRecord[]> => {
      const from = await log().appendedSize();
      await fn();
      const leaves = await log().scanLeaves(from, 10_000);
      return leaves.filter((l) => l.kind === 'audit').map((l) => (decodeEntry(log().openLeaf(l)) as AuditEntry).event);
    };

    beforeAll(async () => {
      ({ t, users } = await seededVault(dialect));
      po = bearer(await users.token('privacy-officer'));
      patient = bearer(await users.token('patient')); // Patient/p1
      clinician = bearer(await users.token('clinician'));
      // A read of each patient, and a search that discloses both at once.
      expect((await get('/fhir/Patient/p1', clinician)).status).toBe(200);
      expect((await get('/fhir/Observation/o-p2', clinician)).status).toBe(200);
      expect((await get('/fhir/Patient?_id=p1,p2&name=Family', clinician)).body.entry).toHaveLength(2);
      // Another patient tries p1's record (404 to them; on p1's trail, without saying who).
      const p2 = await t.vault.identity.addUser({ username: 'u-patient-p2', role: 'patient', password: 'a long enough passphrase 42', fhirUser: 'Patient/p2' });
      const p2Token = bearer(await t.vault.tokens.issue({ subject: p2.user.id, kind: 'user', role: 'patient', fhirUser: 'Patient/p2', scope: 'patient/*.rs', ttlSeconds: 600 }));
      expect((await get('/fhir/Patient/p1', p2Token)).status).toBe(404);
    }, 120_000);
    afterAll(async () => t?.close());

    it('is refused to clinicians, nurses, administrators and backend clients (403), whatever their scopes', async () => {
      const client = bearer(await t.vault.tokens.issue({ subject: 'backend-1', kind: 'client', clientId: 'backend-1', scope: 'system/*.rs', ttlSeconds: 600 }));
      const refused = [clinician, bearer(await users.token('nurse')), bearer(await users.token('admin')), client, bearer(await users.otherClinician())];
      for (const h of refused) {
        for (const url of ['/fhir/AuditEvent', '/fhir/AuditEvent/ledger-0', '/fhir/Patient/p1/$access-log']) {
          const r = await get(url, h);
          expect(r.status, url).toBe(403);
          expect(r.body.resourceType).toBe('OperationOutcome');
        }
      }
      // A patient app granted only Observation cannot read the patient's audit trail.
      const narrow = bearer(await users.token('patient', { scope: 'patient/Observation.rs' }));
      expect((await get('/fhir/AuditEvent', narrow)).status).toBe(403);
      expect((await get('/fhir/Patient/p1/$access-log', narrow)).status).toBe(403);
      expect((await get('/fhir/AuditEvent', {})).status).toBe(200); // the test operator token
    });

    it('the privacy officer reads every event, newest first; each is a valid R4 AuditEvent and the Bundle is valid', async () => {
      const r = await get('/fhir/AuditEvent?_count=1000', po);
      expect(r.status).toBe(200);
      expect(validateResource(r.body)).toEqual([]);
      const events = ids(r).map(indexOf);
      expect(events.length).toBeGreaterThan(10);
      expect(events).toEqual([...events].sort((a, b) => b - a));
      const about = new Set(r.body.entry.flatMap((e: any) => patientsIn(e.resource)));
      expect(about).toEqual(new Set(['Patient/p1', 'Patient/p2']));
      const one = await get(`/fhir/AuditEvent/ledger-${events[0]}`, po);
      expect(one.status).toBe(200);
      expect(validateResource(one.body)).toEqual([]);
      expect(one.body).toEqual(r.body.entry[0].resource);
    });

    it('a patient reads only the events about themself; an event also about another patient only in part', async () => {
      const mine = await get('/fhir/AuditEvent?_count=1000', patient);
      expect(mine.status).toBe(200);
      expect(validateResource(mine.body)).toEqual([]);
      expect(ids(mine).length).toBeGreaterThan(3);
      for (const e of mine.body.entry.filter((x: any) => x.resource.resourceType === 'AuditEvent')) expect(patientsIn(e.resource)).toEqual(['Patient/p1']);
      // The search that disclosed p1 and p2 together: the patient reads their own account of it (who searched, not who else was found).
      const shared = mine.body.entry.map((e: any) => e.resource).find((e: any) => e.meta?.tag?.[0]?.code === 'account' && e.agent[0].who.reference === 'Practitioner/dr1');
      expect(shared.subtype).toEqual([expect.objectContaining({ code: 'search-type' })]);
      const refs = shared.entity.map((e: any) => e.what.reference);
      expect(refs.filter((r: string) => !r.startsWith('Patient/p1'))).toEqual([expect.stringMatching(/^AuditEvent\/ledger-\d+$/)]);
      expect(JSON.stringify(mine.body)).not.toMatch(/p2|Family/);
      // Another patient's attempt is there, with who it was withheld.
      const attempt = mine.body.entry.map((e: any) => e.resource).find((e: any) => e.outcome === '4' && e.agent[0].who.display === 'another patient');
      expect(attempt).toMatchObject({ meta: { tag: [{ code: 'redacted' }] }, entity: [{ what: { reference: 'Patient/p1' } }] });
      expect(attempt.agent[0].network).toBeUndefined();
      // The privacy officer sees the same account, and through it the event in full; the patient cannot read the full event.
      const fullId = refs.find((r: string) => r.startsWith('AuditEvent/')).slice('AuditEvent/'.length);
      expect(patientsIn((await get(`/fhir/AuditEvent/${shared.id}`, po)).body)).toEqual(['Patient/p1']);
      const full = await get(`/fhir/AuditEvent/${fullId}`, po);
      expect(patientsIn(full.body)).toEqual(['Patient/p1', 'Patient/p2']);
      expect((await get(`/fhir/AuditEvent/${fullId}`, patient)).status).toBe(404);
      expect((await get(`/fhir/AuditEvent/${shared.id}`, patient)).body).toEqual(shared);
      // patient=Patient/p1 is allowed and the same; anyone else is refused outright.
      // (The trail grew meanwhile by the reads of it: compare what was there.)
      expect(ids(await get('/fhir/AuditEvent?_count=1000&patient=Patient/p1', patient)).slice(-ids(mine).length)).toEqual(ids(mine));
      expect((await get('/fhir/AuditEvent?patient=p2', patient)).status).toBe(403);
    });

    it("a patient cannot tell another patient's events, or another patient, from nothing (404 alike)", async () => {
      const all = ids(await get('/fhir/AuditEvent?_count=1000&patient=p2', po));
      const mine = new Set(ids(await get('/fhir/AuditEvent?_count=1000', patient)));
      const theirs = all.find((id) => !mine.has(id))!;
      expect(theirs).toBeDefined();
      const other = await get(`/fhir/AuditEvent/${theirs}`, patient);
      const missing = await get('/fhir/AuditEvent/ledger-99999999', patient);
      expect(other.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(other.body.issue[0].code).toBe(missing.body.issue[0].code);
      const otherLog = await get('/fhir/Patient/p2/$access-log', patient);
      const noLog = await get('/fhir/Patient/nobody/$access-log', patient);
      expect(otherLog.status).toBe(404);
      expect(noLog.status).toBe(404);
      expect(otherLog.text.replace('p2', 'X')).toBe(noLog.text.replace('nobody', 'X'));
    });

    it('searches by patient and date, and pages by ledger index with next links, without gaps or repeats', async () => {
      const all = await get('/fhir/AuditEvent?_count=1000&patient=Patient/p1', po);
      const every = all.body.entry.filter((e: any) => e.resource.resourceType === 'AuditEvent').map((e: any) => e.resource);
      const pages: string[] = [];
      let url: string | undefined = '/fhir/AuditEvent?patient=p1&_count=3';
      while (url !== undefined) {
        const page = await get(url, po);
        expect(page.status).toBe(200);
        expect(ids(page).length).toBeLessThanOrEqual(3);
        pages.push(...ids(page));
        const next = page.body.link.find((l: any) => l.relation === 'next')?.url as string | undefined;
        url = next?.replace('http://127.0.0.1:8080', '');
      }
      // Reading the trail adds events about p1 as it goes: the pages hold at least what was there before, in order, once.
      expect(pages.slice(pages.length - every.length)).toEqual(every.map((e: any) => e.id));
      expect(new Set(pages).size).toBe(pages.length);
      // Dates: a window around the middle event, then empty windows.
      const mid = every[Math.floor(every.length / 2)];
      const at = Date.parse(mid.recorded);
      const around = await get(`/fhir/AuditEvent?patient=p1&_count=1000&date=ge${new Date(at).toISOString()}&date=le${new Date(at).toISOString()}`, po);
      expect(ids(around)).toContain(mid.id);
      for (const e of around.body.entry) expect(Date.parse(e.resource.recorded)).toBe(at);
      expect(ids(await get(`/fhir/AuditEvent?_count=1000&date=gt${new Date(Date.now() + 86_400_000).toISOString()}`, po))).toEqual([]);
      expect(ids(await get('/fhir/AuditEvent?_count=1000&date=lt2000-01-01', po))).toEqual([]);
      expect(ids(await get(`/fhir/AuditEvent?_id=${mid.id},ae-p1`, po))).toEqual([mid.id]);
      expect((await get('/fhir/AuditEvent?date=sa2026', po)).status).toBe(400);
      expect((await get('/fhir/AuditEvent?date=yesterday', po)).status).toBe(400);
      expect((await get('/fhir/AuditEvent?_before=-1', po)).status).toBe(400);
      expect((await get('/fhir/AuditEvent?site=x', po)).status).toBe(200);
      expect((await t.request('GET', '/fhir/AuditEvent?site=x', undefined, { ...po, prefer: 'handling=strict' })).status).toBe(400);
    });

    it('filters by who, what, outcome, action, type and address, on each event as the caller sees it', async () => {
      const events = async (query: string, as = po): Promise<any[]> => {
        const r = await get(`/fhir/AuditEvent?_count=1000&${query}`, as);
        expect(r.status, r.text).toBe(200);
        return r.body.entry.filter((e: any) => e.resource.resourceType === 'AuditEvent').map((e: any) => e.resource);
      };
      const all = await events('');
      const who = (e: any): string[] => e.agent.map((a: any) => a.who?.reference).filter((x: unknown) => x !== undefined);
      const what = (e: any): string[] => (e.entity ?? []).map((x: any) => x.what?.reference).filter((x: unknown) => x !== undefined);
      // Everything dr1 did: the reads of p1 and of p2's Observation, the search.
      const byDr1 = await events('agent=Practitioner/dr1');
      expect(byDr1.length).toBeGreaterThanOrEqual(3);
      expect(byDr1.every((e) => who(e).includes('Practitioner/dr1'))).toBe(true);
      expect(byDr1.map((e) => e.id)).toEqual(all.filter((e) => who(e).includes('Practitioner/dr1')).map((e) => e.id));
      // Everything done to one record: `Observation/o-p2` matches its versions.
      const toObservation = await events('entity=Observation/o-p2');
      expect(toObservation.length).toBeGreaterThanOrEqual(2); // written by the seed, read by dr1
      expect(toObservation.every((e) => what(e).some((r) => r === 'Observation/o-p2' || r.startsWith('Observation/o-p2/_history/')))).toBe(true);
      // Repeated parameters narrow; commas widen.
      const dr1OnP2 = await events('agent=Practitioner/dr1&entity=Patient/p2');
      expect(dr1OnP2.length).toBeGreaterThanOrEqual(2);
      expect(dr1OnP2.every((e) => who(e).includes('Practitioner/dr1') && what(e).includes('Patient/p2'))).toBe(true);
      const refused = await events('outcome=4');
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((e) => e.outcome === '4')).toBe(true);
      // (Each search is itself recorded, so the trail grows as the test reads it.)
      const zeroOrFour = await events('outcome=0,4');
      expect(zeroOrFour.every((e) => e.outcome === '0' || e.outcome === '4')).toBe(true);
      expect(zeroOrFour.map((e) => e.id)).toEqual(expect.arrayContaining(all.filter((e) => e.outcome === '0' || e.outcome === '4').map((e) => e.id)));
      // An escaped comma is part of the value (search.html escaping): one code, '0,4', which no event has.
      expect(await events('outcome=0%5C,4')).toEqual([]);
      expect((await events('action=C')).every((e) => e.action === 'C')).toBe(true);
      const reads = await events('subtype=http://hl7.org/fhir/restful-interaction|read');
      expect(reads.length).toBeGreaterThan(0);
      expect(reads.every((e) => e.subtype.some((c: any) => c.system === 'http://hl7.org/fhir/restful-interaction' && c.code === 'read'))).toBe(true);
      expect((await events('subtype=read')).map((e) => e.id)).toEqual(reads.map((e) => e.id));
      expect((await events('type=http://terminology.hl7.org/CodeSystem/audit-event-type|rest')).every((e) => e.type.code === 'rest')).toBe(true);
      const fromLoopback = await events('address=127.');
      expect(fromLoopback.length).toBeGreaterThan(0);
      expect(fromLoopback.every((e) => e.agent.some((a: any) => a.network?.address?.startsWith('127.')))).toBe(true);
      // p2's refused attempt on p1's record: the privacy officer finds it by who did it ...
      expect((await events('agent=Patient/p2&outcome=4')).some((e) => what(e).includes('Patient/p1'))).toBe(true);
      // ... p1 sees that someone tried (as "another patient"), but cannot find out who by filtering.
      const mine = await events('', patient);
      expect(mine.some((e) => e.agent.some((a: any) => a.who?.display === 'another patient'))).toBe(true);
      expect(await events('agent=Patient/p2', patient)).toEqual([]);
      // The filters stay in the page links; bad values are refused.
      const page = await get('/fhir/AuditEvent?agent=Practitioner/dr1&outcome=0&_count=1', po);
      expect(new URL(page.body.link.find((l: any) => l.relation === 'next').url).searchParams.get('agent')).toBe('Practitioner/dr1');
      for (const bad of ['agent=dr1', 'entity=', 'outcome=a|b|c', `agent=${'Practitioner/x,'.repeat(21)}`]) {
        const r = await get(`/fhir/AuditEvent?${bad}`, po);
        expect(r.status, bad).toBe(400);
        expect(r.body.issue[0].details.coding[0].code).toBe('search-invalid');
      }
      // Every filter runs on every event a page examines: more than 100 parameters, or a value past 4,096 characters, are refused before any is.
      for (const costly of [`${'address=1&'.repeat(101)}outcome=0`, `_id=${'1,'.repeat(2_100)}`, `_count=5&${'date=ge2020&'.repeat(100)}`]) {
        const r = await get(`/fhir/AuditEvent?${costly}`, po);
        expect(r.status, costly.slice(0, 40)).toBe(400);
        expect(r.body.issue[0].details.coding[0].code).toBe('search-too-costly');
      }
      expect((await get(`/fhir/Patient/p1/$access-log?${'_count=1&'.repeat(101)}`, po)).body.issue[0].details.coding[0].code).toBe('search-too-costly');
    });

    it('finds everything done with one bearer token by its id (policy, IHE BALP), and keeps another patient’s token id from a patient', async () => {
      const events = async (query: string, as = po): Promise<any[]> => {
        const r = await get(`/fhir/AuditEvent?_count=1000&${query}`, as);
        expect(r.status, r.text).toBe(200);
        return r.body.entry.filter((e: any) => e.resource.resourceType === 'AuditEvent').map((e: any) => e.resource);
      };
      const jti = (h: Record<string, string>): string => decodeJwt(h['authorization']!.slice('Bearer '.length)).jti!;
      const urn = (h: Record<string, string>): string => `urn:ietf:params:oauth:jti:${jti(h)}`;
      // A token of its own, used twice; the clinician's token, used before.
      const suspect = bearer(await users.token('clinician'));
      expect((await get('/fhir/Patient/p1', suspect)).status).toBe(200);
      expect((await get('/fhir/Observation/o-p2', suspect)).status).toBe(200);
      const records = await recordedBy(() => get('/fhir/Patient/p2', suspect));
      expect(records.map((r) => r.agent.token)).toEqual([jti(suspect)]);
      const used = await events(`policy=${encodeURIComponent(urn(suspect))}`);
      expect(used).toHaveLength(3);
      expect(used.every((e) => e.agent.find((a: any) => a.requestor === true).policy[0] === urn(suspect))).toBe(true);
      expect(used.flatMap(patientsIn).sort()).toEqual(['Patient/p1', 'Patient/p2', 'Patient/p2']);
      // Alternatives (OR), exact matching only, and the id alone is not the URN.
      expect((await events(`policy=${encodeURIComponent(urn(suspect))},${encodeURIComponent(urn(clinician))}`)).length).toBeGreaterThan(3);
      expect(await events(`policy=${jti(suspect)}`)).toEqual([]);
      expect(await events(`policy=${encodeURIComponent(urn(suspect).slice(0, -1))}`)).toEqual([]);
      // p2 tried p1's record with their own token: p1 sees that someone tried, not with which token.
      const tried = (await events('agent=Patient/p2&outcome=4')).filter((e) => e.entity?.some((x: any) => x.what?.reference === 'Patient/p1'));
      expect(tried.length).toBeGreaterThan(0);
      const policy = tried[0].agent.find((a: any) => a.requestor === true).policy[0] as string;
      expect(policy).toMatch(/^urn:ietf:params:oauth:jti:[0-9a-f-]{36}$/);
      const mine = await events('', patient);
      const anonymous = mine.filter((e) => e.agent.some((a: any) => a.who?.display === 'another patient'));
      expect(anonymous.length).toBeGreaterThan(0);
      expect(anonymous.every((e) => e.agent.every((a: any) => a.policy === undefined))).toBe(true);
      expect(await events(`policy=${encodeURIComponent(policy)}`, patient)).toEqual([]);
      // A patient's own token is theirs to see.
      expect(mine.some((e) => e.agent.some((a: any) => a.policy?.[0] === urn(patient)))).toBe(true);
    });

    it('reading the audit trail is on the audit trail, and so is a refusal', async () => {
      const [searched] = await recordedBy(() => get('/fhir/AuditEvent?patient=p2&_count=2', po));
      // Filed under every patient the events shown are about (p2's events may also be about others).
      expect(searched).toMatchObject({ type: 'rest', subtype: 'search-type', action: 'R', outcome: '0', agent: { roles: ['privacy-officer'] } });
      expect(searched!.patients).toContain('p2');
      expect(searched!.entities).toHaveLength(2);
      expect(searched!.entities.every((e) => /^AuditEvent\/ledger-\d+$/.test(e))).toBe(true);
      const [logged] = await recordedBy(() => get('/fhir/Patient/p1/$access-log', patient));
      expect(logged).toMatchObject({ subtype: '$access-log', action: 'E', outcome: '0', patients: ['p1'], agent: { who: 'Patient/p1' } });
      const [refused] = await recordedBy(() => get('/fhir/Patient/p1/$access-log', clinician));
      expect(refused).toMatchObject({ subtype: '$access-log', outcome: '4', outcomeCode: 'forbidden', patients: ['p1'] });
      // The patient sees both in their own log.
      const own = ids(await get('/fhir/AuditEvent?_count=5', patient));
      expect(own.length).toBeGreaterThan(0);
    });

    it('the access log: a collection Bundle, valid R4, whose proof verifies against the log key; _since narrows it', async () => {
      const r = await get('/fhir/Patient/p1/$access-log', patient);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
      expect(validateResource(r.body)).toEqual([]);
      const v = verifyAccessLogBundle(Buffer.from(r.text), { vkey: t.vault.ledger.verifierKey });
      expect(v.verified).toBeGreaterThan(3);
      // Withheld: p2's attempt on p1 (it names another patient as who acted), so the chain's link there is not proven.
      expect(v.withheld).toBeGreaterThan(0);
      expect(v.withheld).toBe(r.body.entry.filter((e: any) => e.resource.meta?.tag?.[0]?.code === 'redacted').length);
      expect(v.indexes).toEqual(ids(r).map(indexOf));
      expect(v.complete).toBe(false);
      expect(v.gaps[0]).toMatch(/cannot be read, so its link is not proven/);
      expect(outcome(r)).toMatch(/unbroken run of your chain/);
      // The privacy officer's copy withholds nothing, and its run is proven complete from the chain's first entry.
      const poCopy = await get('/fhir/Patient/p1/$access-log', po);
      const full = verifyAccessLogBundle(Buffer.from(poCopy.text), { vkey: t.vault.ledger.verifierKey });
      expect(full.withheld).toBe(0);
      expect(full).toMatchObject({ complete: true, gaps: [] });
      // Leaving an event out of the list breaks the chain: the verifier names where.
      const cut = JSON.parse(poCopy.text);
      const proofParams = cut.entry.find((e: any) => e.resource.resourceType === 'Parameters').resource.parameter;
      const dropped = proofParams.findIndex((p: any) => p.name === 'entry') + 1;
      const droppedId = `ledger-${proofParams[dropped].part[0].valueString}`;
      proofParams.splice(dropped, 1);
      cut.entry = cut.entry.filter((e: any) => e.resource.id !== droppedId);
      expect(() => verifyAccessLogBundle(Buffer.from(JSON.stringify(cut)), { vkey: t.vault.ledger.verifierKey })).toThrow(/entries were left out/);
      const events = r.body.entry.filter((e: any) => e.resource.resourceType === 'AuditEvent').map((e: any) => e.resource);
      const since = events[Math.floor(events.length / 2)].recorded;
      const later = await get(`/fhir/Patient/p1/$access-log?_since=${encodeURIComponent(since)}`, patient);
      expect(ids(later)[0]).toBe(events.find((e: any) => e.recorded >= since).id);
      expect(verifyAccessLogBundle(Buffer.from(later.text), { vkey: t.vault.ledger.verifierKey }).since).toBe(Date.parse(since));
      // From since on, proven complete: the run starts right after a boundary event recorded before since.
      const laterPo = verifyAccessLogBundle(Buffer.from((await get(`/fhir/Patient/p1/$access-log?_since=${encodeURIComponent(since)}`, po)).text), { vkey: t.vault.ledger.verifierKey });
      expect(laterPo).toMatchObject({ complete: true, gaps: [] });
      expect((await get('/fhir/Patient/p1/$access-log?_since=last-week', patient)).status).toBe(400);
      expect((await t.request('POST', '/fhir/Patient/p1/$access-log', {}, patient)).status).toBe(405);
      // Paged, oldest first: each page verifies on its own.
      const first = await get('/fhir/Patient/p1/$access-log?_count=2', patient);
      expect(ids(first)).toEqual(ids(r).slice(0, 2));
      const next = first.body.link.find((l: any) => l.relation === 'next').url.replace('http://127.0.0.1:8080', '');
      const second = await get(next, patient);
      expect(ids(second)).toEqual(ids(r).slice(2, 4));
      expect(verifyAccessLogBundle(Buffer.from(second.text), { vkey: t.vault.ledger.verifierKey }).verified).toBeGreaterThan(0);
      const secondPo = await get(next, po);
      expect(verifyAccessLogBundle(Buffer.from(secondPo.text), { vkey: t.vault.ledger.verifierKey })).toMatchObject({ complete: true, gaps: [] });
    });

    it("the access log's signed head: the run reaches it, a page says more follow, and an end left off is caught now or by a later log", async () => {
      const vkey = t.vault.ledger.verifierKey;
      const whole = await get('/fhir/Patient/p1/$access-log?_count=1000', po);
      const v = verifyAccessLogBundle(Buffer.from(whole.text), { vkey });
      const last = v.indexes[v.indexes.length - 1]!;
      expect(v).toMatchObject({ complete: true, head: last, reachesHead: true });
      expect(v.chained).toEqual(v.indexes);
      // A page short of the head links the next one, and says so.
      const page = verifyAccessLogBundle(Buffer.from((await get('/fhir/Patient/p1/$access-log?_count=2', po)).text), { vkey });
      expect(page).toMatchObject({ complete: true, head: expect.any(Number), reachesHead: false });
      expect(page.head).toBeGreaterThan(page.indexes[1]!);
      // Nothing since now: an empty run whose boundary is the head.
      const empty = verifyAccessLogBundle(Buffer.from((await get(`/fhir/Patient/p1/$access-log?_since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, po)).text), { vkey });
      expect(empty).toMatchObject({ indexes: [], reachesHead: true });
      expect(empty.head).toBeGreaterThanOrEqual(last);

      // A vault that leaves the newest entry off the end, under the honest head: caught in the file itself.
      const cut = JSON.parse(whole.text);
      const params = cut.entry.find((e: any) => e.resource.resourceType === 'Parameters').resource.parameter;
      const lastEntry = params.map((p: any) => p.name).lastIndexOf('entry');
      const dropped = `ledger-${params[lastEntry].part[0].valueString}`;
      params.splice(lastEntry, 1);
      cut.entry = cut.entry.filter((e: any) => e.resource.id !== dropped);
      expect(() => verifyAccessLogBundle(Buffer.from(JSON.stringify(cut)), { vkey })).toThrow(/left off the end/);
      // … and with a head it signed to match the shortened list: the file alone is consistent,
      const secondLast = v.indexes[v.indexes.length - 2]!;
      const size = Number(params.find((p: any) => p.name === 'checkpoint').valueString.split('\n')[1]);
      params.find((p: any) => p.name === 'head').valueString = t.vault.ledger.signChainHead('p1', size, secondLast);
      const lying = verifyAccessLogBundle(Buffer.from(JSON.stringify(cut)), { vkey });
      expect(lying).toMatchObject({ complete: true, head: secondLast, reachesHead: true });
      // but any later log of the patient shows the entry it withheld, and the two signed statements convict it.
      await get('/fhir/Patient/p1', clinician);
      const later = verifyAccessLogBundle(Buffer.from((await get('/fhir/Patient/p1/$access-log?_count=1000', po)).text), { vkey });
      expect(later.treeSize).toBeGreaterThan(size);
      expect(() => compareWithEarlier(later, lying)).toThrow(new RegExp(`Ledger index ${last} .* the earlier Bundle withheld it`));
      // The honest earlier log agrees with the later one; the wrong order or another patient is the caller's mistake.
      expect(() => compareWithEarlier(later, v)).not.toThrow();
      expect(() => compareWithEarlier(v, later)).toThrow(expect.objectContaining({ code: 'config-invalid' }));
      const other = verifyAccessLogBundle(Buffer.from((await get('/fhir/Patient/p2/$access-log?_count=1000', po)).text), { vkey });
      expect(() => compareWithEarlier(other, v)).toThrow(expect.objectContaining({ code: 'config-invalid' }));
      // A head of another patient or size, or under another key, fails the file.
      const swapped = JSON.parse(whole.text);
      const swappedParams = swapped.entry.find((e: any) => e.resource.resourceType === 'Parameters').resource.parameter;
      const head = swappedParams.find((p: any) => p.name === 'head');
      head.valueString = t.vault.ledger.signChainHead('p2', size, last);
      expect(() => verifyAccessLogBundle(Buffer.from(JSON.stringify(swapped)), { vkey })).toThrow(/of Patient\/p2, not of Patient\/p1/);
      head.valueString = t.vault.ledger.signChainHead('p1', size + 1, last);
      expect(() => verifyAccessLogBundle(Buffer.from(JSON.stringify(swapped)), { vkey })).toThrow(/chain head is at size/);
      // One bit of the signature flipped (past the key hash that names the key).
      head.valueString = t.vault.ledger.signChainHead('p1', size, last).replace(/— (\S+) (\S+)\n$/, (_: string, name: string, sig: string) => {
        const bytes = Buffer.from(sig, 'base64');
        bytes[10]! ^= 1;
        return `— ${name} ${bytes.toString('base64')}\n`;
      });
      expect(() => verifyAccessLogBundle(Buffer.from(JSON.stringify(swapped)), { vkey })).toThrow(/chain head is not signed by the log key/);
      // A v3 proof without its head is malformed.
      swapped.entry.find((e: any) => e.resource.resourceType === 'Parameters').resource.parameter = swappedParams.filter((p: any) => p.name !== 'head');
      expect(() => verifyAccessLogBundle(Buffer.from(JSON.stringify(swapped)), { vkey })).toThrow(/a v3 proof has no head/);
      // A v2 proof (saved before the head) still verifies, without the guarantee at its end; a v2 head is malformed.
      swapped.entry.find((e: any) => e.resource.resourceType === 'Parameters').resource.parameter.find((p: any) => p.name === 'format').valueUri = 'https://custodia.dev/fhir/access-log-proof/v2';
      const v2 = verifyAccessLogBundle(Buffer.from(JSON.stringify(swapped)), { vkey });
      expect(v2).toMatchObject({ complete: true, reachesHead: false, indexes: v.indexes });
      expect(v2.head).toBeUndefined();
      expect(() => compareWithEarlier(later, v2)).toThrow(expect.objectContaining({ code: 'config-invalid' }));
      swapped.entry.find((e: any) => e.resource.resourceType === 'Parameters').resource.parameter.push({ name: 'head', valueString: head.valueString });
      expect(() => verifyAccessLogBundle(Buffer.from(JSON.stringify(swapped)), { vkey })).toThrow(/a v2 proof has no head parameter/);
    });

    it('the stored AuditEvent resources keep their ids; ledger ids cannot be written', async () => {
      expect((await get('/fhir/AuditEvent/ae-p1', po)).body).toMatchObject({ resourceType: 'AuditEvent', id: 'ae-p1' });
      expect((await t.request('PUT', '/fhir/AuditEvent/ledger-1', { resourceType: 'AuditEvent', id: 'ledger-1' })).status).toBe(405);
      expect((await t.request('DELETE', '/fhir/AuditEvent/ledger-1')).status).toBe(405);
      expect((await get('/fhir/AuditEvent/ledger-1/_history', po)).status).toBe(501);
    });

    it("an erased patient's events answer 410 and are counted out of searches and access logs", async () => {
      const put = (r: Record<string, unknown>) => t.request('PUT', `/fhir/${String(r['resourceType'])}/${String(r['id'])}`, r);
      expect((await put({ resourceType: 'Patient', id: 'pe', name: [{ family: 'Erased' }] })).status).toBe(201);
      expect((await put({ resourceType: 'Observation', id: 'o-pe', status: 'final', code: { text: 'pulse' }, subject: { reference: 'Patient/pe' } })).status).toBe(201);
      expect((await get('/fhir/Observation/o-pe', clinician)).status).toBe(200);
      const before = ids(await get('/fhir/AuditEvent?patient=pe&_count=1000', po));
      expect(before.length).toBe(3);
      expect((await t.request('POST', '/fhir/Patient/pe/$erase', REASON, po)).status).toBe(200);
      for (const id of before) {
        const r = await get(`/fhir/AuditEvent/${id}`, po);
        expect(r.status).toBe(410);
        expect(r.body.issue[0].diagnostics).toMatch(/erased/);
      }
      const after = await get('/fhir/AuditEvent?patient=pe&_count=1000', po);
      expect(after.status).toBe(200);
      expect(validateResource(after.body)).toEqual([]);
      // Left: the erasure's own records (sealed under the tenant key: the erasure, and the operator log's
      // "done") and the reads of the trail since. Out: the three events, the privacy officer's search that
      // listed them, and the operator log's "start" of the erasure (about pe, so sealed under pe's key).
      expect(ids(after).some((id) => before.includes(id))).toBe(false);
      expect(after.body.entry.map((e: any) => e.resource).find((e: any) => e.subtype?.[0]?.code === 'patient-erase')).toMatchObject({ action: 'D' });
      expect(outcome(after)).toMatch(/^5 audit event\(s\) .* erased/);
      const accessLog = await get('/fhir/Patient/pe/$access-log', po);
      expect(accessLog.status).toBe(200);
      const v = verifyAccessLogBundle(Buffer.from(accessLog.text), { vkey: t.vault.ledger.verifierKey });
      expect(v.erased).toBe(5);
      expect(outcome(accessLog)).toMatch(/5 event\(s\) are left out: their patient was erased/);
      const all = await get('/fhir/AuditEvent?_count=1000', po);
      expect(outcome(all)).toMatch(/^5 audit event\(s\)/);
    });
  });
}
