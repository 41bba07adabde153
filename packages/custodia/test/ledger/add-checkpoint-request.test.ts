/** The add-checkpoint wire format of tlog-witness: the spec's example, round trips, and strict refusal. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isCustodiaError } from '../../src/kernel/index.js';
import {
  formatAddCheckpointRequest,
  formatCosignatureBody,
  formatTreeSizeBody,
  MAX_PROOF_LINES,
  parseAddCheckpointRequest,
  parseCosignatureBody,
  parseTreeSizeBody,
  TLOG_SIZE_CONTENT_TYPE,
} from '../../src/ledger/add-checkpoint-request.js';
import { signCheckpoint } from '../../src/ledger/checkpoint.js';
import { formatSignedNote } from '../../src/ledger/signed-note.js';
import { logSigner, SPEC, toyCheckpoint } from './note-fixtures.js';

const malformed = expect.objectContaining({ code: 'request-malformed' });
const internal = expect.objectContaining({ code: 'internal' });
const H = Buffer.alloc(32, 7).toString('base64');
const NOTE = formatSignedNote(signCheckpoint(toyCheckpoint(3), [logSigner]));

describe('add-checkpoint request bodies', () => {
  it('read the tlog-witness example, and write it back', () => {
    const req = parseAddCheckpointRequest(SPEC.addCheckpointExample.body);
    expect(req.oldSize).toBe(SPEC.addCheckpointExample.oldSize);
    expect(req.proof).toHaveLength(SPEC.addCheckpointExample.proofLines);
    expect(req.proof.every((h) => h.length === 32)).toBe(true);
    expect(req.checkpoint.signatures).toHaveLength(2);
    expect(req.checkpoint.text.startsWith('example.com/behind-the-sofa\n20852163\n')).toBe(true);
    expect(formatAddCheckpointRequest(req)).toBe(SPEC.addCheckpointExample.body);
    expect(parseAddCheckpointRequest(Buffer.from(SPEC.addCheckpointExample.body))).toEqual(req);
  });

  it('take an empty proof and an old size of zero', () => {
    const req = parseAddCheckpointRequest(`old 0\n\n${NOTE}`);
    expect(req).toMatchObject({ oldSize: 0, proof: [] });
    expect(formatAddCheckpointRequest(req)).toBe(`old 0\n\n${NOTE}`);
  });

  it('take at most 63 proof lines', () => {
    expect(parseAddCheckpointRequest(`old 1\n${`${H}\n`.repeat(MAX_PROOF_LINES)}\n${NOTE}`).proof).toHaveLength(63);
    expect(() => parseAddCheckpointRequest(`old 1\n${`${H}\n`.repeat(MAX_PROOF_LINES + 1)}\n${NOTE}`)).toThrow(malformed);
  });

  it.each([
    ['an empty body', ''],
    ['no old line', `\n${NOTE}`],
    ['only the old line', 'old 1'],
    ['no blank line after the old line', `old 1\n`],
    ['"Old" capitalised', `Old 1\n\n${NOTE}`],
    ['two spaces', `old  1\n\n${NOTE}`],
    ['a leading zero', `old 01\n\n${NOTE}`],
    ['a negative size', `old -1\n\n${NOTE}`],
    ['a size beyond 2^53 - 1', `old 18446744073709551615\n\n${NOTE}`],
    ['a carriage return', `old 1\r\n\n${NOTE}`],
    ['a proof line that is not base64', `old 1\n!!!!\n\n${NOTE}`],
    ['a proof line of 31 bytes', `old 1\n${Buffer.alloc(31).toString('base64')}\n\n${NOTE}`],
    ['a proof line with a trailing space', `old 1\n${H} \n\n${NOTE}`],
    ['no blank line after the proof', `old 1\n${H}\n`],
    ['no checkpoint', `old 1\n\n`],
    ['an unsigned checkpoint', `old 1\n\nexample.com/log\n1\n${H}\n`],
    ['a checkpoint with a bad signature line', `old 1\n\n${NOTE.replace('\u2014', '-')}`],
  ])('refuse %s', (_why, body) => {
    expect(() => parseAddCheckpointRequest(body)).toThrow(malformed);
  });

  it('refuse bodies that are too large or not UTF-8', () => {
    const body = `old 0\n\n${NOTE}`;
    expect(() => parseAddCheckpointRequest(body, { maxBytes: body.length - 1 })).toThrow(malformed);
    expect(() => parseAddCheckpointRequest(Buffer.from(body), { maxBytes: body.length - 1 })).toThrow(malformed);
    expect(parseAddCheckpointRequest(Buffer.from(body), { maxBytes: Buffer.byteLength(body) }).oldSize).toBe(0);
    expect(() => parseAddCheckpointRequest(Buffer.concat([Buffer.from(body), Buffer.from([0xc0])]))).toThrow(malformed);
  });

  it('are not written with a bad old size or proof', () => {
    const checkpoint = signCheckpoint(toyCheckpoint(3), [logSigner]);
    expect(() => formatAddCheckpointRequest({ oldSize: -1, proof: [], checkpoint })).toThrow(internal);
    expect(() => formatAddCheckpointRequest({ oldSize: 0.5, proof: [], checkpoint })).toThrow(internal);
    expect(() => formatAddCheckpointRequest({ oldSize: 1, proof: [Buffer.alloc(31)], checkpoint })).toThrow(internal);
    expect(() => formatAddCheckpointRequest({ oldSize: 1, proof: Array.from({ length: 64 }, () => Buffer.alloc(32)), checkpoint })).toThrow(internal);
  });

  const hash = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b));
  test.prop([fc.nat(), fc.array(hash, { maxLength: MAX_PROOF_LINES })])('parse(format(r)) = r', (oldSize, proof) => {
    const req = { oldSize, proof, checkpoint: signCheckpoint(toyCheckpoint(3), [logSigner]) };
    expect(parseAddCheckpointRequest(formatAddCheckpointRequest(req))).toEqual(req);
  });

  test.prop([fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 })])('arbitrary bodies parse or fail with request-malformed', (s, b) => {
    for (const body of [s, b, `old 0\n${s}`, `old 0\n\n${s}`]) {
      try {
        parseAddCheckpointRequest(body);
      } catch (e) {
        expect(isCustodiaError(e, 'request-malformed')).toBe(true);
      }
    }
  });
});

describe('response bodies', () => {
  it('409: the latest size, in decimal, then a newline (text/x.tlog.size)', () => {
    expect(TLOG_SIZE_CONTENT_TYPE).toBe('text/x.tlog.size');
    expect(formatTreeSizeBody(SPEC.addCheckpointExample.conflictExampleLatestSize)).toBe('20852014\n');
    expect(parseTreeSizeBody('20852014\n')).toBe(20852014);
    expect(parseTreeSizeBody('0\n')).toBe(0);
    for (const bad of ['', '1', '01\n', '1\n\n', ' 1\n', '-1\n', '1.0\n']) expect(() => parseTreeSizeBody(bad)).toThrow(malformed);
    expect(() => formatTreeSizeBody(-1)).toThrow(internal);
  });

  it('200: cosignature lines, as in the tlog-witness example', () => {
    const sigs = parseCosignatureBody(SPEC.addCheckpointExample.responseExample);
    expect(sigs).toHaveLength(3);
    expect(formatCosignatureBody(sigs)).toBe(SPEC.addCheckpointExample.responseExample);
    expect(() => formatCosignatureBody([])).toThrow(internal);
    expect(() => parseCosignatureBody('')).toThrow(malformed);
  });
});
