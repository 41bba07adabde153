#!/usr/bin/env node
// Entry point of the `custodia` command. The TypeScript sources are compiled
// to dist/ by `npm ci` (root `prepare` script) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('custodia: the CLI is not built yet; run `npm run build` at the repository root.\n');
  process.exit(2);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv);
