/** `custodia role require-mfa`: an administrator's per-role policy. */
import { Command, Option } from '@commander-js/extra-typings';
import { ROLES, setRoleMfaRequired } from '../app/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';
import { storageConfig } from './storage-config.js';

export function roleCommand(): Command<[], Record<string, unknown>> {
  const role = new Command('role').description('per-role policies').exitOverride();
  role.addCommand(
    new Command('require-mfa')
      .description('require a second factor (TOTP or a recovery code) of every user of a role; --off lifts it')
      .addOption(dataDirOption())
      .addOption(databaseOption())
      .addOption(schemaOption())
      .addOption(new Option('--role <role>', 'role').choices(ROLES).makeOptionMandatory())
      .option('--off', 'stop requiring a second factor', false)
      .exitOverride()
      .action(async (o) => {
        const policy = await setRoleMfaRequired(storageConfig(o), o.role, !o.off);
        process.stdout.write(`Role ${o.role}: second factor ${policy.mfaRequired ? 'required' : 'not required'}.\n`);
      }),
  );
  return role as unknown as Command<[], Record<string, unknown>>;
}
