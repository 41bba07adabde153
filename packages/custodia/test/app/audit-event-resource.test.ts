/**
 * Audit records as FHIR R4 AuditEvents (IHE BALP shape): every record the ledger accepts
 * renders as a resource the vault's own R4 structural validator accepts (hand-picked
 * records of each kind, then arbitrary ones), with the codes BALP uses; a patient's view
 * of an event also about others shows nobody and nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditEventResource, ledgerEventId, parseLedgerEventId } from '../../src/app/index.js';
import { AUDIT_TYPES, isAuditRecord, type AuditRecord } from '../../src/ledger/index.js';
import { validateResource } from '../../src/fhir/index.js';
import { runs } from '../ledger/seeded.js';

const ORIGIN = 'hospital.example/ledger';
const AT = Date.UTC(2026, 4, 1, 10, 0, 0, 123);

const read: AuditRecord = {
  at: AT,
  type: 'rest',
  subtype: 'read',
  action: 'R',
  outcome: '0',
  agent: { who: 'Practitioner/dr1', onBehalfOf: 'user:u-1', roles: ['clinician'], address: '10.0.0.7' },
  purposeOfUse: 'TREAT',
  patients: ['p1'],
  entities: ['Patient/p1/_history/2'],
};

const RECORDS: Record<string, AuditRecord> = {
  read,
  'search with a query, several patients, truncated': {
    ...read,
    subtype: 'search-type',
    agent: { who: 'Practitioner/dr1', client: 'ehr-app', roles: ['clinician'], address: '2001:db8::7' },
    patients: ['p1', 'p2'],
    entities: ['Observation/o1/_history/1', 'Observation/o2/_history/3'],
    entitiesTruncated: true,
    query: 'code=http://loinc.org|8867-4&_count=50',
  },
  'create by the operator': { ...read, subtype: 'create', action: 'C', agent: { who: 'operator', address: 'localhost' }, entities: ['Observation/o9/_history/1'] },
  'an operation': { ...read, subtype: '$access-log', action: 'E', agent: { who: 'Patient/p1', onBehalfOf: 'user:u-9', roles: ['patient'] }, entities: ['AuditEvent/ledger-3'] },
  'a refusal': { ...read, outcome: '4', outcomeCode: 'forbidden', entities: [] },
  'an unparsable request': { ...read, subtype: 'unparsed', action: 'E', outcome: '4', outcomeCode: 'request-malformed', patients: [], entities: [] },
  'a bad token': { at: AT, type: 'authn-failure', subtype: 'bearer-token', action: 'E', outcome: '4', outcomeCode: 'token-invalid', agent: { who: 'anonymous', address: '192.0.2.1' }, patients: [], entities: [] },
  'a ledger entry read': { at: AT, type: 'admin', subtype: 'ledger-entry', action: 'R', outcome: '0', agent: { who: 'user:po-1', roles: ['privacy-officer'] }, purposeOfUse: 'TREAT', patients: [], entities: ['ledger/entry/5'] },
  'an erasure': { at: AT, type: 'erasure', subtype: 'patient-erase', action: 'D', outcome: '0', agent: { who: 'operator' }, patients: ['p3'], entities: ['Patient/p3'] },
  'break-the-glass': { ...read, purposeOfUse: 'BTG', breakGlass: true },
  'delegated access': { ...read, agent: { who: 'RelatedPerson/rp1', onBehalfOf: 'Patient/p1' } },
  'a client': { ...read, agent: { who: 'client:backend-1', roles: [] } },
};

describe('AuditEvent from an audit record', () => {
  for (const [name, record] of Object.entries(RECORDS)) {
    it(`${name}: a valid R4 AuditEvent`, () => {
      expect(isAuditRecord(record)).toBe(true);
      const event = auditEventResource(7, record, { origin: ORIGIN });
      expect(validateResource(event)).toEqual([]);
      expect(event['id']).toBe('ledger-7');
      expect(event['recorded']).toBe('2026-05-01T10:00:00.123Z');
    });
  }

  it('a read: BALP rest/read, the user as information recipient with role and address, the vault as source and destination, patient and data entities', () => {
    expect(auditEventResource(7, read, { origin: ORIGIN })).toEqual({
      resourceType: 'AuditEvent',
      id: 'ledger-7',
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'Restful Operation' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read', display: 'read' }],
      action: 'R',
      recorded: '2026-05-01T10:00:00.123Z',
      outcome: '0',
      purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }],
      agent: [
        {
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
          role: [{ coding: [{ system: 'https://custodia.dev/fhir/CodeSystem/role', code: 'clinician' }] }],
          who: { reference: 'Practitioner/dr1' },
          altId: 'user:u-1',
          requestor: true,
          network: { address: '10.0.0.7', type: '2' },
        },
        {
          type: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110152', display: 'Destination Role ID' }] },
          who: { identifier: { system: 'https://custodia.dev/fhir/NamingSystem/ledger-origin', value: ORIGIN }, display: 'Custodia vault' },
          requestor: false,
        },
      ],
      source: {
        site: ORIGIN,
        observer: { identifier: { system: 'https://custodia.dev/fhir/NamingSystem/ledger-origin', value: ORIGIN }, display: 'Custodia vault' },
        type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
      },
      entity: [
        {
          what: { reference: 'Patient/p1' },
          type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
          role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
        },
        {
          what: { reference: 'Patient/p1/_history/2' },
          type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
          role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4', display: 'Domain Resource' },
        },
      ],
    });
  });

  it('a search through a client: the client as Source Role ID with the address, and the query as a Query entity (base64)', () => {
    const e = auditEventResource(1, RECORDS['search with a query, several patients, truncated']!, { origin: ORIGIN }) as any;
    expect(e.subtype[0].code).toBe('search-type');
    expect(e.agent[0].network).toBeUndefined();
    expect(e.agent[1]).toEqual({
      type: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110153', display: 'Source Role ID' }] },
      who: { identifier: { system: 'https://custodia.dev/fhir/NamingSystem/client', value: 'ehr-app' } },
      requestor: false,
      network: { address: '2001:db8::7', type: '2' },
    });
    const query = e.entity.find((x: any) => x.role?.code === '24');
    expect(Buffer.from(query.query, 'base64').toString('utf8')).toBe('code=http://loinc.org|8867-4&_count=50');
    expect(e.entity.some((x: any) => /at most 1000/.test(x.description ?? ''))).toBe(true);
  });

  it('security events get DICOM event ids; the vault keeps its own subtype beside', () => {
    const codes = (r: AuditRecord) => {
      const e = auditEventResource(1, r, { origin: ORIGIN }) as any;
      return [e.type.code, ...e.subtype.map((s: any) => s.code)];
    };
    expect(codes(RECORDS['a bad token']!)).toEqual(['110114', '110122', 'bearer-token']);
    expect(codes(RECORDS['a ledger entry read']!)).toEqual(['110101', 'ledger-entry']);
    expect(codes(RECORDS['an erasure']!)).toEqual(['110110', 'patient-erase']);
    expect(codes(RECORDS['an operation']!)).toEqual(['rest', 'operation', '$access-log']);
    expect(codes(RECORDS['an unparsable request']!)).toEqual(['rest', 'unparsed']);
  });

  it('break-the-glass is purposeOfEvent BTG; a patient user is the PAT agent; a refusal keeps its error code', () => {
    expect((auditEventResource(1, RECORDS['break-the-glass']!, { origin: ORIGIN }) as any).purposeOfEvent).toEqual([
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'BTG', display: 'break the glass' }] },
    ]);
    expect((auditEventResource(1, { ...read, purposeOfUse: 'TREAT', breakGlass: true }, { origin: ORIGIN }) as any).purposeOfEvent.map((p: any) => p.coding[0].code)).toEqual(['TREAT', 'BTG']);
    expect((auditEventResource(1, RECORDS['an operation']!, { origin: ORIGIN }) as any).agent[0].type.coding[0].code).toBe('PAT');
    expect(auditEventResource(1, RECORDS['a refusal']!, { origin: ORIGIN })).toMatchObject({ outcome: '4', outcomeDesc: 'forbidden' });
  });

  it('a patient sees an event also about others without them, their records or the query, tagged as redacted; one about them alone in full', () => {
    const shared = RECORDS['search with a query, several patients, truncated']!;
    const e = auditEventResource(4, shared, { origin: ORIGIN, forPatient: 'p1' });
    expect(validateResource(e)).toEqual([]);
    expect((e as any).entity).toEqual([expect.objectContaining({ what: { reference: 'Patient/p1' } })]);
    expect((e as any).meta.tag[0]).toMatchObject({ code: 'redacted' });
    const text = JSON.stringify(e);
    for (const hidden of ['p2', 'Observation/o1', 'loinc', Buffer.from(shared.query!).toString('base64')]) expect(text).not.toContain(hidden);
    expect(auditEventResource(7, read, { origin: ORIGIN, forPatient: 'p1' })).toEqual(auditEventResource(7, read, { origin: ORIGIN }));
  });

  it("another patient acting is anonymous in a patient's view, and the event redacted", () => {
    const attempt: AuditRecord = { ...read, outcome: '4', outcomeCode: 'resource-not-found', agent: { who: 'Patient/p2', onBehalfOf: 'user:u-2', roles: ['patient'], address: '198.51.100.4' }, entities: ['Observation/o1'] };
    const e = auditEventResource(3, attempt, { origin: ORIGIN, forPatient: 'p1' }) as any;
    expect(validateResource(e)).toEqual([]);
    expect(e.meta.tag[0].code).toBe('redacted');
    expect(e.agent[0]).toEqual({ type: { coding: [expect.objectContaining({ code: 'PAT' })] }, role: [{ coding: [{ system: 'https://custodia.dev/fhir/CodeSystem/role', code: 'patient' }] }], who: { display: 'another patient' }, requestor: true });
    expect(JSON.stringify(e)).not.toMatch(/p2|u-2|198\.51/);
    // Their own view, and the privacy officer's, name them.
    expect((auditEventResource(3, attempt, { origin: ORIGIN, forPatient: 'p2' }) as any).agent[0].who).toEqual({ reference: 'Patient/p2' });
    expect((auditEventResource(3, attempt, { origin: ORIGIN }) as any).agent[0].who).toEqual({ reference: 'Patient/p2' });
  });

  it('refuses a time outside the years 1–9999 (a decoded entry may hold any safe integer)', () => {
    expect(() => auditEventResource(1, { ...read, at: 8.7e15 }, { origin: ORIGIN })).toThrow(/outside the years/);
    expect(() => auditEventResource(1, { ...read, at: -6.3e13 }, { origin: ORIGIN })).toThrow(/outside the years/);
  });

  it('ids: ledger-<index>, canonical decimal only', () => {
    expect(ledgerEventId(0)).toBe('ledger-0');
    expect(parseLedgerEventId('ledger-42')).toBe(42);
    for (const bad of ['ledger-042', 'ledger--1', 'ledger-', 'ledger-1e3', 'ledger-99999999999999999', 'ae-p1', 'Ledger-1']) expect(parseLedgerEventId(bad)).toBeUndefined();
  });

  it('every record the ledger accepts renders as a valid R4 AuditEvent, in full and in any patient view', () => {
    const text = (max: number) => fc.string({ minLength: 1, maxLength: max, unit: 'grapheme-ascii' }).filter((s) => s.trim() === s && s.trim().length > 0);
    const id = fc.stringMatching(/^[A-Za-z0-9\-.]{1,20}$/);
    const who = fc.oneof(id.map((i) => `Practitioner/${i}`), id.map((i) => `Patient/${i}`), id.map((i) => `user:${i}`), id.map((i) => `client:${i}`), fc.constant('operator'), fc.constant('anonymous'), text(40));
    const record = fc.record(
      {
        at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
        type: fc.constantFrom(...AUDIT_TYPES),
        subtype: fc.oneof(fc.constantFrom('read', 'vread', 'search-type', 'search-system', 'create', 'update', 'delete', 'history-instance', 'transaction', 'batch', '$erase', 'unparsed', 'ledger-entry'), fc.stringMatching(/^[a-z$][a-z-]{0,30}$/)),
        action: fc.constantFrom('C', 'R', 'U', 'D', 'E' as const),
        outcome: fc.constantFrom('0', '4', '8', '12' as const),
        outcomeCode: fc.stringMatching(/^[a-z][a-z-]{0,30}$/),
        agent: fc.record({ who, client: id, onBehalfOf: fc.oneof(id.map((i) => `user:${i}`), who), roles: fc.array(fc.stringMatching(/^[a-z][a-z-]{0,20}$/), { maxLength: 3 }), address: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain().filter((d) => d.length <= 64)) }, { requiredKeys: ['who'] }),
        purposeOfUse: fc.constantFrom('TREAT', 'ETREAT', 'BTG', 'HPAYMT'),
        breakGlass: fc.boolean(),
        patients: fc.uniqueArray(id, { maxLength: 4 }),
        entities: fc.array(fc.oneof(id.map((i) => `Observation/${i}/_history/1`), id.map((i) => `Patient/${i}`), text(60)), { maxLength: 4 }),
        entitiesTruncated: fc.boolean(),
        query: text(200),
      },
      { requiredKeys: ['at', 'type', 'subtype', 'action', 'outcome', 'agent', 'patients', 'entities'] },
    ) as fc.Arbitrary<AuditRecord>;
    let checked = 0;
    fc.assert(
      fc.property(record, fc.nat(2 ** 40), (r, index) => {
        if (!isAuditRecord(r)) return;
        checked++;
        expect(validateResource(auditEventResource(index, r, { origin: ORIGIN }))).toEqual([]);
        for (const p of [...r.patients, 'someone-else']) expect(validateResource(auditEventResource(index, r, { origin: ORIGIN, forPatient: p }))).toEqual([]);
      }),
      runs(300),
    );
    expect(checked).toBeGreaterThan(200);
  });
});
