/**
 * Flow files through the public surface: each fixture opens by path and by its guessed
 * format; hostile input (binary junk, a 1 MiB line, NUL bytes, a UTF-16 file, wrong
 * field counts) is counted line by line and never thrown; a file that cannot be read at
 * all is an import-failed error; the report lists the first 20 bad records and counts all.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowFormat } from '../../src/detect/index.js';
import { detectFlowFileFormat, detectFlowFormat, openFlowFile, readFlows } from '../../src/ingest/index.js';
import { badLines, readAll } from './read-all.js';

/** `n` bytes that look random but are the same on every run (SHA-256 in counter mode). */
function junkBytes(n: number, seed: string): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < n; i++) blocks.push(createHash('sha256').update(`${seed}:${i}`).digest());
  return Buffer.concat(blocks).subarray(0, n);
}

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/flows/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'custodia-flows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FIXTURES: readonly (readonly [string, FlowFormat, number])[] = [
  ['nsl-kdd-excerpt.txt', 'nsl-kdd', 60],
  ['zeek-conn.log', 'zeek', 8],
  ['zeek-conn.json.log', 'zeek', 6],
  ['zeek-conn-policy.log', 'zeek', 2],
  ['cic-ids2017-style.csv', 'cicflowmeter', 4],
  ['cse-cic-ids2018-style.csv', 'cicflowmeter', 4],
  ['cicflowmeter-v4.csv', 'cicflowmeter', 3],
];

describe('flow files', () => {
  it.each(FIXTURES)('%s reads as %s by path, and its format is guessed', async (name, format, count) => {
    expect(await detectFlowFileFormat(fixture(name))).toBe(format);
    const { records, report } = await readAll(openFlowFile(fixture(name), format));
    expect(records).toHaveLength(count);
    expect(records.every((r) => r.source === format)).toBe(true);
    expect(report.records).toBe(count);
  });

  it('guesses no format for junk, an empty file or another CSV', () => {
    expect(detectFlowFormat(Buffer.from(''))).toBeUndefined();
    expect(detectFlowFormat(junkBytes(512, 'detect'))).toBeUndefined();
    expect(detectFlowFormat(Buffer.from('name,age\nbob,3\n'))).toBeUndefined();
    expect(detectFlowFormat(Buffer.from('\ufeff\r\n#separator \\x09\r\n'))).toBe('zeek');
  });

  it('a file that cannot be read is an import-failed error, not a crash', async () => {
    await expect(readAll(openFlowFile(join(dir, 'missing.log'), 'zeek'))).rejects.toMatchObject({ code: 'import-failed', message: 'cannot read the flow file missing.log (ENOENT)' });
    await expect(readAll(openFlowFile(dir, 'zeek'))).rejects.toMatchObject({ code: 'import-failed' });
  });

  it('is read once', async () => {
    const source = readFlows([Buffer.from('')], 'nsl-kdd');
    await readAll(source);
    expect(() => source[Symbol.asyncIterator]()).toThrow('a FlowSource is read once');
  });

  it('counts every bad record and lists the first 20 (or as many as asked)', async () => {
    const junk = Buffer.from('junk\n'.repeat(1000));
    expect((await readAll(readFlows([junk], 'nsl-kdd'))).report).toMatchObject({ badRecords: 1000, firstBad: expect.any(Array) });
    expect((await readAll(readFlows([junk], 'nsl-kdd'))).report.firstBad).toHaveLength(20);
    expect((await readAll(readFlows([junk], 'nsl-kdd', { maxReportedBad: 3 }))).report.firstBad).toEqual([
      { line: 1, offset: 0, reason: '1 fields, not 41 to 43' },
      { line: 2, offset: 5, reason: '1 fields, not 41 to 43' },
      { line: 3, offset: 10, reason: '1 fields, not 41 to 43' },
    ]);
  });
});

describe('hostile flow files', () => {
  const nsl = '0,udp,other,SF,146,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,13,1,0.00,0.00,0.00,0.00,0.08,0.15,0.00,255,1,0.00,0.60,0.88,0.00,0.00,0.00,0.00,0.00,normal,15';
  const zeekHeader = '#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum';
  const zeekRow = '1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp';
  const cicHeader = 'Dst Port,Flow Duration,Label';
  const cicRow = '443,10,BENIGN';
  const junk = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x13, 0x37, 0x0d, 0x09]);
  const cases: readonly (readonly [FlowFormat, string, string])[] = [
    ['nsl-kdd', '', nsl],
    ['zeek', zeekHeader, zeekRow],
    ['cicflowmeter', cicHeader, cicRow],
  ];

  it.each(cases)('%s: binary junk, a 1 MiB line, NUL bytes and a short row are counted; the good rows are read', async (format, header, row) => {
    const skip = header === '' ? 0 : header.split('\n').length;
    const input = Buffer.concat([
      Buffer.from(header === '' ? '' : `${header}\n`),
      Buffer.from(`${row}\n`),
      junk, Buffer.from('\n'),
      Buffer.alloc(1024 * 1024, 0x31), Buffer.from('\n'),
      Buffer.from(`${row.slice(0, 3)}\u0000${row.slice(3)}\n`),
      Buffer.from(`${row.split(/[,\t]/).slice(0, 2).join(format === 'zeek' ? '\t' : ',')}\n`),
      Buffer.from(row),
    ]);
    const { records, report } = await readAll(readFlows([input], format));
    expect(records.map((r) => r.line)).toEqual([skip + 1, skip + 6]);
    expect(report.badRecords).toBe(4);
    expect(report.firstBad.map((b) => b.line)).toEqual([skip + 2, skip + 3, skip + 4, skip + 5]);
    expect(report.firstBad[0]!.reason).toMatch(/not UTF-8 text|control character/);
    expect(report.firstBad[1]!.reason).toBe('line longer than 65536 bytes');
    expect(report.firstBad[2]!.reason).toBe('a NUL or other control character');
    expect(report.firstBad[3]!.reason).toMatch(/^2 fields/);
  });

  it.each(cases)('%s: a UTF-16 file is bad records, not a crash', async (format, header, row) => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${header}\n${row}\n`, 'utf16le')]);
    const { records, report } = await readAll(readFlows([utf16], format));
    expect(records).toEqual([]);
    expect(report.badRecords).toBeGreaterThan(0);
  });

  it.each(cases)('%s: 64 KiB of random bytes', async (format) => {
    const { report } = await readAll(readFlows([junkBytes(64 * 1024, format)], format));
    expect(report.badRecords).toBeGreaterThan(0);
    expect(report.records).toBe(0);
  });

  it('a 1 MiB file of one line without a newline, on disk', async () => {
    const path = join(dir, 'one-line.csv');
    writeFileSync(path, Buffer.alloc(1024 * 1024, 0x2c));
    const { records, report } = await readAll(openFlowFile(path, 'cicflowmeter'));
    expect(records).toEqual([]);
    expect(badLines(report)).toEqual(['1: line longer than 65536 bytes']);
  });
});
