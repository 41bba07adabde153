/**
 * The progress of `custodia detect train|score|evaluate` on stderr: a bar over the bytes
 * of the input while it is read, then the name of each training stage. Only when stderr
 * is a terminal; piped or captured output stays clean.
 */
import cliProgress from 'cli-progress';
import type { DetectorProgress } from '../app/index.js';

const STAGES: Readonly<Record<string, string>> = { trees: 'training the gradient-boosted trees', 'random-forest': 'growing the random forest', forest: 'growing the isolation forest', threshold: 'calibrating the forest threshold on held-out normal rows', scoring: 'scoring' };

export interface DetectProgress {
  readonly update: (p: DetectorProgress) => void;
  readonly stop: () => void;
}

export function detectProgress(verb: string, stream: NodeJS.WriteStream = process.stderr): DetectProgress {
  if (!stream.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({ format: `${verb} [{bar}] {percentage}% | {rows} flows | ETA {eta_formatted}`, stream }, cliProgress.Presets.shades_classic);
  let running = false;
  const stop = (): void => {
    if (running) bar.stop();
    running = false;
  };
  return {
    update: (p) => {
      if (p.stage === 'reading') {
        if (!running) bar.start(Math.max(1, p.totalBytes), 0, { rows: 0 });
        running = true;
        bar.update(Math.min(p.bytesRead, p.totalBytes), { rows: p.rows });
        return;
      }
      stop();
      stream.write(`${STAGES[p.stage] ?? p.stage}…\n`);
    },
    stop,
  };
}
