/** `custodia keys status|rotate`: which keys protect how much data, and KEK / data-key rotation (app/key-admin.ts). */
import { Command } from '@commander-js/extra-typings';
import cliProgress from 'cli-progress';
import { CustodiaError, keyStatus, resumeReseal, rotateDataKeys, rotateKek, type KeyStatus, type ResealProgress } from '../app/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';
import { storageConfig } from './storage-config.js';

function printStatus(s: KeyStatus): void {
  const out: string[] = [`Key provider: ${s.provider}`, 'KEKs:'];
  for (const k of s.keks) out.push(`  ${k.id}${k.current ? ' (current)' : ''}${k.createdAt === undefined ? '' : `  created ${new Date(k.createdAt).toISOString()}`}`);
  out.push('Data keys:');
  if (s.dataKeys.length === 0) out.push('  none yet');
  for (const c of s.dataKeys) out.push(`  ${c.state.padEnd(8)} ${String(c.keys).padStart(8)}${c.kekId === null ? '' : `  wrapped by ${c.kekId}`}`);
  const v = s.versions;
  out.push('Resource versions:', `  sealed by active keys   ${v.active}`, `  sealed by retired keys  ${v.retired}${v.retired > 0 ? '  (re-sealing pending: the server does it, or custodia keys rotate --resume)' : ''}`);
  out.push(`  erased                  ${v.erased}`, `  stored in clear         ${v.clear}`, `  under unknown keys      ${v.unknownKey}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** A progress bar on a terminal, a line per batch otherwise. */
function progressReporter(): { onProgress: (p: ResealProgress) => void; stop: () => void } {
  let done = 0;
  const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 're-sealing [{bar}] {percentage}% | {value}/{total} versions | ETA {eta_formatted}', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
  let started = false;
  return {
    onProgress(p) {
      done += p.resealed;
      if (bar === undefined) {
        process.stderr.write(`re-sealed ${done}, ${p.remaining} left\n`);
        return;
      }
      if (!started) {
        bar.start(done + p.remaining, done);
        started = true;
      }
      bar.setTotal(done + p.remaining);
      bar.update(done);
    },
    stop: () => bar?.stop(),
  };
}

export function keysCommand(): Command<[], Record<string, unknown>> {
  const keys = new Command('keys').description('encryption-at-rest keys: status and rotation').exitOverride();
  keys.addCommand(
    new Command('status')
      .description('the key provider, its KEKs, the data keys, and how many resource versions each kind of key protects')
      .addOption(dataDirOption())
      .addOption(databaseOption())
      .addOption(schemaOption())
      .option('--json', 'print JSON', false)
      .exitOverride()
      .action(async (o) => {
        const s = await keyStatus(storageConfig(o));
        if (o.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        else printStatus(s);
      }),
  );
  keys.addCommand(
    new Command('rotate')
      .description('--kek: a new key-encryption key, data keys rewrapped (no data rewritten); --data: new data keys, data re-sealed in the background; --resume: finish re-sealing now')
      .addOption(dataDirOption())
      .addOption(databaseOption())
      .addOption(schemaOption())
      .option('--kek', 'rotate the key-encryption key', false)
      .option('--data', 'rotate every data key', false)
      .option('--wait', 'with --data: re-seal everything before returning, with progress', false)
      .option('--resume', 're-seal what retired data keys still seal (after an interruption)', false)
      .exitOverride()
      .action(async (o) => {
        if (!o.kek && !o.data && !o.resume) throw new CustodiaError('request-malformed', 'Say what to rotate: --kek, --data, or --resume');
        const config = storageConfig(o);
        if (o.kek) {
          const r = await rotateKek(config);
          process.stdout.write(`New KEK ${r.kek}; ${r.rewrapped} keys rewrapped; no data rewritten.\n`);
        }
        if (o.data || o.resume) {
          const p = progressReporter();
          try {
            if (o.data) {
              const r = await rotateDataKeys(config, { wait: o.wait, onProgress: p.onProgress });
              process.stdout.write(`${r.retired} data keys retired; ${o.wait ? `${r.resealed} versions re-sealed under new keys.` : 'a running server re-seals in the background (custodia keys status shows progress).'}\n`);
            } else {
              const n = await resumeReseal(config, p.onProgress);
              process.stdout.write(`${n} versions re-sealed under new keys.\n`);
            }
          } finally {
            p.stop();
          }
        }
      }),
  );
  return keys as unknown as Command<[], Record<string, unknown>>;
}
