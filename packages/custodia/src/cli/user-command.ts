/**
 * `custodia user add|disable|enable|reset-mfa`: account administration on the vault's
 * database. A generated password is printed once on stdout and never stored in the
 * clear; `--password-stdin` reads the password from one line of stdin instead, so it
 * never appears in the process list or shell history. Passwords are never echoed.
 */
import { Command, Option } from '@commander-js/extra-typings';
import { CustodiaError, ROLES, addUser, disableUser, enableUser, resetUserMfa, setUserPassword } from '../app/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';
import { storageConfig } from './storage-config.js';

const MAX_STDIN_PASSWORD_BYTES = 8192;

/** One line of stdin (without its line ending), for --password-stdin. */
export async function readStdinLine(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    const nl = b.indexOf(0x0a);
    const part = nl >= 0 ? b.subarray(0, nl) : b;
    total += part.length;
    if (total > MAX_STDIN_PASSWORD_BYTES) throw new CustodiaError('password-rejected', 'The password read from stdin is too long');
    chunks.push(part);
    if (nl >= 0) break;
  }
  const line = Buffer.concat(chunks).toString('utf8');
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function storageCommand(name: string, description: string) {
  return new Command(name).description(description).addOption(dataDirOption()).addOption(databaseOption()).addOption(schemaOption()).exitOverride();
}

export function userCommand(): Command<[], Record<string, unknown>> {
  const user = new Command('user').description('manage the people who sign in to the vault').exitOverride();
  user.addCommand(
    storageCommand('add', 'add a user; without --password-stdin a strong password is generated and printed once')
      .requiredOption('--username <name>', 'login name (normalised: NFKC, lower case)')
      .addOption(new Option('--role <role>', 'role').choices(ROLES).makeOptionMandatory())
      .option('--fhir-user <ref>', 'the FHIR resource the user is: Practitioner/ID, PractitionerRole/ID or Patient/ID')
      .option('--password-stdin', 'read the password from one line of standard input', false)
      .action(async (o) => {
        const password = o.passwordStdin ? await readStdinLine() : undefined;
        const added = await addUser(storageConfig(o), {
          username: o.username,
          role: o.role,
          ...(o.fhirUser === undefined ? {} : { fhirUser: o.fhirUser }),
          ...(password === undefined ? {} : { password }),
        });
        const u = added.user;
        process.stdout.write(`User ${u.username} added: role ${u.role}${u.fhirUser === undefined ? '' : `, fhirUser ${u.fhirUser}`}, id ${u.id}.\n`);
        if (added.generatedPassword !== undefined) process.stdout.write(`Password (shown once; store it now): ${added.generatedPassword}\n`);
      }),
  );
  user.addCommand(
    storageCommand('disable', 'refuse every further sign-in of a user and end their tokens')
      .requiredOption('--username <name>', 'login name')
      .action(async (o) => {
        const u = await disableUser(storageConfig(o), o.username);
        process.stdout.write(`User ${u.username} disabled.\n`);
      }),
  );
  user.addCommand(
    storageCommand('enable', 'let a disabled or locked-out user sign in again')
      .requiredOption('--username <name>', 'login name')
      .action(async (o) => {
        const u = await enableUser(storageConfig(o), o.username);
        process.stdout.write(`User ${u.username} enabled.\n`);
      }),
  );
  user.addCommand(
    storageCommand('reset-mfa', "remove a user's authenticator and recovery codes (lost phone); they enrol again at next sign-in")
      .requiredOption('--username <name>', 'login name')
      .action(async (o) => {
        const u = await resetUserMfa(storageConfig(o), o.username);
        process.stdout.write(`Second factor of user ${u.username} reset.\n`);
      }),
  );
  user.addCommand(
    storageCommand('set-password', 'give a user a new password (a forgotten one): generated and shown once, or read from stdin; lifts a lockout')
      .requiredOption('--username <name>', 'login name')
      .option('--password-stdin', 'read the password from one line of standard input', false)
      .action(async (o) => {
        const password = o.passwordStdin ? await readStdinLine() : undefined;
        const r = await setUserPassword(storageConfig(o), o.username, password);
        process.stdout.write(`Password of user ${r.user.username} set.\n`);
        if (r.generatedPassword !== undefined) process.stdout.write(`Password (shown once; store it now): ${r.generatedPassword}\n`);
      }),
  );
  return user as unknown as Command<[], Record<string, unknown>>;
}
