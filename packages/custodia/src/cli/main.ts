/**
 * `custodia`: the command line. Errors are one line on stderr with a non-zero exit
 * code, never a stack trace (2: bad usage or configuration, 1: partial failure such as
 * import lines that failed, 70: internal error).
 */
import { Command, CommanderError } from '@commander-js/extra-typings';
import { isCustodiaError } from '../app/index.js';
import { importCommand } from './import-command.js';
import { serveCommand } from './serve-command.js';
import { tokenCommand } from './token-command.js';
import { userCommand } from './user-command.js';
import { clientCommand } from './client-command.js';
import { roleCommand } from './role-command.js';
import { loginCommand } from './login-command.js';
import { keysCommand } from './keys-command.js';
import { ledgerCommand } from './ledger-command.js';
import { patientCommand } from './patient-command.js';
import { witnessCommand } from './witness-command.js';
import { detectCommand } from './detect-command.js';

export function buildProgram(): Command {
  const program = new Command('custodia')
    .description('Custodia: a FHIR R4 health-data vault that secures itself')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError()
    // A subcommand's arguments reach it as given: `token revoke --data-dir D` is revoke's
    // --data-dir, not token's (commander otherwise hands options after a nested command
    // to the first command that declares them).
    .enablePositionalOptions();
  program.addCommand(serveCommand());
  program.addCommand(importCommand());
  program.addCommand(tokenCommand());
  program.addCommand(userCommand());
  program.addCommand(clientCommand());
  program.addCommand(roleCommand());
  program.addCommand(loginCommand());
  program.addCommand(keysCommand());
  program.addCommand(ledgerCommand());
  program.addCommand(patientCommand());
  program.addCommand(witnessCommand());
  program.addCommand(detectCommand());
  for (const c of program.commands) c.exitOverride();
  return program as unknown as Command;
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isCustodiaError(e)) {
      process.stderr.write(`custodia: ${e.message}\n`);
      return e.code === 'internal' ? 70 : 2;
    }
    process.stderr.write(`custodia: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 70;
  }
}
