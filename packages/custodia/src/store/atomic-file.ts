/**
 * Writes a secret or configuration file so that a crash leaves the old file or the new
 * one, never half of one: a new file beside it (created exclusively, with its final mode),
 * flushed, renamed over the old one, and the directory flushed so the rename survives a
 * power cut. Used for the keyring and the TLS key and certificate under `<data-dir>/keys`.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Random } from '../kernel/index.js';

export function writeFileAtomically(path: string, text: string, mode: number, random: Random): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${random.bytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const d = openSync(dir, 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}
