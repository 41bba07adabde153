/**
 * Streaming: a generated 200,000-line NSL-KDD file parses with bounded memory (the heap
 * after a full GC stays within a few MiB of where it started, however far the reading
 * has got), and the parse throughput of each format is measured and printed.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowFormat } from '../../src/detect/index.js';
import { openFlowFile } from '../../src/ingest/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const FIXTURES = new URL('../fixtures/flows/', import.meta.url);
const fixtureLines = (name: string): string[] => readFileSync(new URL(name, FIXTURES), 'utf8').split(/\r?\n/).filter((l) => l !== '');

const dir = mkdtempSync(join(tmpdir(), 'custodia-flow-stream-'));
const files = new Map<string, { path: string; format: FlowFormat; lines: number }>();

/** Writes `header` then `count` rows cycled from `rows`, in blocks (never the whole file in memory). */
function generate(name: string, format: FlowFormat, header: readonly string[], rows: readonly string[], count: number): void {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  try {
    if (header.length > 0) writeSync(fd, `${header.join('\n')}\n`);
    for (let done = 0; done < count; ) {
      const n = Math.min(10_000, count - done);
      writeSync(fd, `${Array.from({ length: n }, (_, i) => rows[(done + i) % rows.length]).join('\n')}\n`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  files.set(name, { path, format, lines: count });
}

beforeAll(() => {
  generate('nsl-kdd-200k.txt', 'nsl-kdd', [], fixtureLines('nsl-kdd-excerpt.txt'), 200_000);
  const tsv = fixtureLines('zeek-conn.log');
  generate('zeek-100k.log', 'zeek', tsv.filter((l) => l.startsWith('#') && !l.startsWith('#close')), tsv.filter((l) => !l.startsWith('#')), 100_000);
  generate('zeek-100k.json.log', 'zeek', [], fixtureLines('zeek-conn.json.log'), 100_000);
  const cic = fixtureLines('cicflowmeter-v4.csv');
  generate('cic-100k.csv', 'cicflowmeter', cic.slice(0, 1), cic.slice(1), 100_000);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const memory = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

describe('streaming flow files', () => {
  it('parses 200,000 NSL-KDD lines with bounded memory', async () => {
    const { path } = files.get('nsl-kdd-200k.txt')!;
    gc();
    const before = memory();
    let peak = 0;
    let n = 0;
    const source = openFlowFile(path, 'nsl-kdd');
    for await (const record of source) {
      n++;
      if (record.source !== 'nsl-kdd') throw new Error('not an NSL-KDD record'); // look at the record, keep none
      if (n % 20_000 === 0) {
        gc();
        peak = Math.max(peak, memory() - before);
      }
    }
    expect(n).toBe(200_000);
    expect(source.report()).toMatchObject({ records: 200_000, badRecords: 0 });
    const mib = peak / 1024 / 1024;
    console.log(`[flows] 200,000 NSL-KDD lines (${(statSync(path).size / 1024 / 1024).toFixed(1)} MiB): retained memory at most ${mib.toFixed(2)} MiB above the start, after GC`);
    expect(mib).toBeLessThan(8);
  });

  it.each(['nsl-kdd-200k.txt', 'zeek-100k.log', 'zeek-100k.json.log', 'cic-100k.csv'])('measures the throughput of %s', async (name) => {
    const { path, format, lines } = files.get(name)!;
    let n = 0;
    const start = performance.now();
    for await (const record of openFlowFile(path, format)) if (record.line > 0) n++;
    const seconds = (performance.now() - start) / 1000;
    expect(n).toBe(lines);
    const rate = lines / seconds;
    console.log(`[flows] ${format} ${name}: ${lines.toLocaleString('en')} lines in ${seconds.toFixed(2)} s = ${Math.round(rate).toLocaleString('en')} lines/s (${(statSync(path).size / 1024 / 1024 / seconds).toFixed(1)} MiB/s)`);
    expect(rate).toBeGreaterThan(5_000); // a floor against pathological slowness, not a benchmark
  });
});
