import { describe, expect, it } from 'vitest';
import { seededRandom, uuidV4 } from '../../src/kernel/index.js';

describe('seededRandom', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(seededRandom(1).bytes(40)).toEqual(seededRandom(1).bytes(40));
    expect(seededRandom(1).bytes(40)).not.toEqual(seededRandom(2).bytes(40));
  });
  it('streams: two reads equal one read of the same total length', () => {
    const a = seededRandom('s');
    const b = seededRandom('s');
    expect(Buffer.concat([a.bytes(7), a.bytes(50)])).toEqual(b.bytes(57));
  });
});

describe('uuidV4', () => {
  it('sets the RFC 9562 version and variant bits', () => {
    const r = seededRandom(3);
    for (let i = 0; i < 100; i++) {
      expect(uuidV4(r)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});
