/**
 * The NSL-KDD features and labels against the fixture: the schema's 39 features, the two
 * constant columns it leaves out, no identifier among them, the standard attack classes.
 */
import { describe, expect, it } from 'vitest';
import { ATTACK_CLASSES, FeatureEncoder, NSL_KDD_EXCLUDED, NSL_KDD_FEATURES, NSL_KDD_SCHEMA, NSL_KDD_SERVICES, NSL_KDD_TRAINING_ATTACK_TYPES, nslKddLabel, nslKddRow, type NslKddFeatures } from '../../src/detect/index.js';
import { loadNslKdd, nslKddRows } from './nsl-kdd-fixture.js';

describe('NSL-KDD features', () => {
  it('uses the 41 columns but the two excluded ones, in file order', () => {
    expect(NSL_KDD_FEATURES).toHaveLength(41);
    expect(NSL_KDD_SCHEMA.features.map((f) => f.name)).toEqual(NSL_KDD_FEATURES.filter((c) => !(c in NSL_KDD_EXCLUDED)));
    expect(NSL_KDD_SCHEMA.features).toHaveLength(39);
    expect(NSL_KDD_SCHEMA.features.filter((f) => f.kind === 'categorical').map((f) => f.name)).toEqual(['protocol_type', 'service', 'flag']);
    expect(NSL_KDD_SERVICES).toHaveLength(70);
  });

  it('has no identifier among its features', () => {
    const names = NSL_KDD_SCHEMA.features.map((f) => f.name);
    for (const id of names) expect(id).not.toMatch(/(^|_)(ip|addr|address|mac|port|host_id|timestamp|time_?stamp|id)$/i);
  });

  it('leaves out only columns that are constant in the fixture', () => {
    const rows = nslKddRows();
    for (const column of Object.keys(NSL_KDD_EXCLUDED)) expect(new Set(rows.map((r) => r.features[column])), column).toEqual(new Set(['0']));
  });

  it('encodes every fixture record, with no category outside the ARFF vocabularies', () => {
    const { matrix } = loadNslKdd();
    expect(matrix).toMatchObject({ rows: 25_192, width: 39 });
    NSL_KDD_SCHEMA.features.forEach((f, col) => {
      if (f.kind !== 'categorical') return;
      for (let r = 0; r < matrix.rows; r++) expect(matrix.data[r * matrix.width + col]).toBeLessThan(f.vocabulary.length);
    });
  });

  it('encodes the typed features of an ingested NSL-KDD flow record exactly as their text', () => {
    const encoder = new FeatureEncoder(NSL_KDD_SCHEMA);
    const symbolic = new Set(['protocol_type', 'service', 'flag']);
    for (const row of nslKddRows().slice(0, 200)) {
      const typed = Object.fromEntries(Object.entries(row.features).map(([k, v]) => [k, symbolic.has(k) ? v : Number(v)])) as unknown as NslKddFeatures;
      expect(encoder.encode(typed)).toEqual(encoder.encode(row.features));
    }
  });

  it('names the fields of a record with 41, 42 or 43 fields, and refuses other counts', () => {
    const line = '0,tcp,ftp_data,SF,491,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,0.00,0.00,0.00,0.00,1.00,0.00,0.00,150,25,0.17,0.03,0.17,0.00,0.00,0.00,0.05,0.00,normal,20'.split(',');
    expect(nslKddRow(line)).toMatchObject({ label: 'normal', difficulty: '20', features: { service: 'ftp_data', src_bytes: '491', dst_host_srv_rerror_rate: '0.00' } });
    expect(nslKddRow(line.slice(0, 42))).not.toHaveProperty('difficulty');
    expect(nslKddRow(line.slice(0, 41))).not.toHaveProperty('label');
    expect(() => nslKddRow(line.slice(0, 40))).toThrow(expect.objectContaining({ code: 'import-failed' }));
    expect(() => nslKddRow([...line, 'x'])).toThrow(expect.objectContaining({ code: 'import-failed' }));
  });
});

describe('NSL-KDD labels', () => {
  it('maps the KDD Cup 1999 training attack types to their classes', () => {
    expect(NSL_KDD_TRAINING_ATTACK_TYPES).toHaveLength(22);
    const byClass = Object.fromEntries(ATTACK_CLASSES.map((c) => [c, NSL_KDD_TRAINING_ATTACK_TYPES.filter((t) => nslKddLabel(t).attackClass === c).sort()]));
    expect(byClass).toEqual({
      DoS: ['back', 'land', 'neptune', 'pod', 'smurf', 'teardrop'],
      Probe: ['ipsweep', 'nmap', 'portsweep', 'satan'],
      R2L: ['ftp_write', 'guess_passwd', 'imap', 'multihop', 'phf', 'spy', 'warezclient', 'warezmaster'],
      U2R: ['buffer_overflow', 'loadmodule', 'perl', 'rootkit'],
    });
  });

  it('calls normal normal, and anything else an attack, of unknown class when unknown', () => {
    expect(nslKddLabel('normal')).toEqual({ type: 'normal', attack: false, attackClass: undefined });
    expect(nslKddLabel('anomaly')).toEqual({ type: 'anomaly', attack: true, attackClass: undefined });
    expect(nslKddLabel('__proto__')).toEqual({ type: '__proto__', attack: true, attackClass: undefined });
    expect(nslKddLabel('mscan').attackClass).toBe('Probe');
  });

  it('counts the fixture by class', () => {
    const counts: Record<string, number> = {};
    for (const row of nslKddRows()) {
      const label = nslKddLabel(row.label ?? '');
      const key = label.attackClass ?? (label.attack ? 'unknown' : 'normal');
      counts[key] = (counts[key] ?? 0) + 1;
    }
    expect(counts).toEqual({ normal: 13_449, DoS: 9_234, Probe: 2_289, R2L: 209, U2R: 11 });
  });
});
