/**
 * The ring between the vault and its audit writer thread (store/ledger-append-channel.ts),
 * both sides driven from one thread: every request sent is read back once, whole and in
 * order, across wrap-arounds; the ring refuses a request only when it has no room for it
 * (and takes it once the reader has caught up), and refuses for good one it could never hold;
 * settlement reports each request's first leaf index or why it failed; a send into an idle
 * channel wakes a thread that is polling, and another send leaves it to its poll.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fc, test } from '@fast-check/vitest';
import { AppendChannel, channelMemory, maxRequestBytes } from '../../src/store/ledger-append-channel.js';

/** A request text of `n` characters, some of them multi-byte (the ring counts bytes). */
const text = (seed: number, n: number): string => Array.from({ length: n }, (_, i) => ((seed + i) % 7 === 0 ? 'é' : String.fromCharCode(97 + ((seed + i) % 26)))).join('');
/** Lengths in bytes that fill a ring of 256 exactly, and any other. */
const lengths = fc.oneof(fc.constantFrom(0, 4, 12, 28, 60, 124).map((n) => 'x'.repeat(n)), fc.integer({ min: 0, max: 120 }).map((n) => text(n, n)));

describe('audit append channel', () => {
  test.prop([fc.array(fc.tuple(lengths, fc.boolean()), { minLength: 1, maxLength: 300 })])(
    'reads back every request sent, in order, whatever the sizes and however the reads interleave',
    (steps) => {
      const channel = new AppendChannel(channelMemory(256));
      const sent: string[] = [];
      const read: string[] = [];
      for (const [json, readNow] of steps) {
        let outcome = channel.send(sent.length, json);
        if (outcome === 'full') {
          // Full only while unread requests hold the room: once they are read, it fits.
          expect(read.length).toBeLessThan(sent.length);
          read.push(...channel.readFrom(read.length));
          outcome = channel.send(sent.length, json);
        }
        if (Buffer.byteLength(json) > maxRequestBytes(256)) expect(outcome).toBe('too-large');
        else {
          expect(outcome).toBe('sent');
          sent.push(json);
        }
        if (readNow) read.push(...channel.readFrom(read.length));
      }
      read.push(...channel.readFrom(read.length));
      expect(read).toEqual(sent);
      expect(channel.sent).toBe(sent.length);
    },
  );

  it('fills to the last byte before the read offset but never onto it, where full and empty would look alike', () => {
    const channel = new AppendChannel(channelMemory(64));
    // Each takes 4 + 12 bytes: three fit in 64 bytes beside the read offset, a fourth would meet it.
    for (let id = 0; id < 3; id++) expect(channel.send(id, 'x'.repeat(12))).toBe('sent');
    expect(channel.send(3, 'x'.repeat(12))).toBe('full');
    expect(channel.readFrom(0)).toHaveLength(3);
    expect(channel.send(3, 'y'.repeat(12))).toBe('sent');
    expect(channel.readFrom(3)).toEqual(['y'.repeat(12)]);
  });

  it('stops short of the read offset when it is ahead of the write offset, and when it wraps to meet it', () => {
    // Requests of 12 bytes take 16. Two written and read: the read offset is at 32.
    let channel = new AppendChannel(channelMemory(64));
    for (let id = 0; id < 2; id++) channel.send(id, 'a'.repeat(12));
    expect(channel.readFrom(0)).toHaveLength(2);
    // 32 and 48 go; the write offset goes round to 0, then 16; 16 + 16 would meet the read offset.
    for (let id = 2; id < 5; id++) expect(channel.send(id, String(id).repeat(12))).toBe('sent');
    expect(channel.send(5, 'z'.repeat(12))).toBe('full');
    expect(channel.readFrom(2)).toEqual(['2', '3', '4'].map((d) => d.repeat(12)));

    // A request of 16 bytes takes 20. With the read offset at 20 and the write offset at 56,
    // the next one does not fit before the end, and at the start it would end on the read offset.
    channel = new AppendChannel(channelMemory(64));
    channel.send(0, 'a'.repeat(16));
    expect(channel.readFrom(0)).toEqual(['a'.repeat(16)]);
    channel.send(1, 'b'.repeat(12));
    expect(channel.send(2, 'c'.repeat(16))).toBe('sent');
    expect(channel.send(3, 'd'.repeat(16))).toBe('full');
    expect(channel.readFrom(1)).toEqual(['b'.repeat(12), 'c'.repeat(16)]);
    expect(channel.send(3, 'd'.repeat(16))).toBe('sent');
    expect(channel.readFrom(3)).toEqual(['d'.repeat(16)]);
  });

  it('zeroes what it has read: no copy of a request (its data keys) stays in the ring', () => {
    const memory = channelMemory(256);
    const channel = new AppendChannel(memory);
    for (let id = 0; id < 20; id++) {
      expect(channel.send(id, `{"key":"${'k'.repeat(id)}"}`)).toBe('sent');
      expect(channel.readFrom(id)).toHaveLength(1);
      expect(Buffer.from(memory.ring).every((b) => b === 0 || b === 0xff)).toBe(true);
    }
  });

  it('reports each settled request’s first index, or why it failed', () => {
    const channel = new AppendChannel(channelMemory(1024));
    for (let id = 0; id < 3; id++) channel.send(id, '{}');
    expect(channel.readFrom(0)).toHaveLength(3);
    channel.committed(0, 10);
    channel.committed(2, 12);
    expect(channel.durable).toBe(0);
    channel.settle(3, new Map([[1, 'disk full']]));
    expect(channel.durable).toBe(3);
    expect(channel.outcome(0)).toEqual({ first: 10 });
    expect(channel.outcome(1)).toEqual({ error: 'disk full' });
    expect(channel.outcome(2)).toEqual({ first: 12 });
    // A status slot is cleared when its request is read again, RING requests later.
  });

  const built = new URL('../../dist/store/ledger-append-channel.js', import.meta.url);

  /** How long a thread polling with `timeoutMs` waited after a send made 50 ms into its wait, with `wake` or not. */
  async function pollingWait(timeoutMs: number, wake: boolean): Promise<number> {
    const memory = channelMemory(1024);
    // The built module (a worker thread cannot load TypeScript): the same code as the source.
    const code = `const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.module).then(({ AppendChannel }) => {
        const channel = new AppendChannel(workerData.memory);
        parentPort.postMessage('waiting');
        const started = performance.now();
        channel.waitForSent(0, workerData.timeoutMs, false);
        parentPort.postMessage(performance.now() - started);
      });`;
    const worker = new Worker(code, { eval: true, workerData: { module: built.href, memory, timeoutMs } });
    try {
      const waited = new Promise<number>((resolve, reject) => {
        worker.on('message', (m: unknown) => {
          if (m === 'waiting') setTimeout(() => new AppendChannel(memory).send(0, '{}', wake), 50);
          else resolve(m as number);
        });
        worker.on('error', reject);
      });
      return await waited;
    } finally {
      await worker.terminate();
    }
  }

  it.skipIf(!existsSync(fileURLToPath(built)))('wakes a polling thread when told to (an idle channel), and otherwise leaves it to its poll', async () => {
    // Woken: back long before its 10 s poll would have ended.
    expect(await pollingWait(10_000, true)).toBeLessThan(5_000);
    // Not woken: it polls to the end of its wait, though the request is there.
    expect(await pollingWait(400, false)).toBeGreaterThanOrEqual(350);
  });
});
