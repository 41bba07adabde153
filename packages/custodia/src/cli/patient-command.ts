/** `custodia patient erase|hold|release-hold`: crypto-shredding erasure and legal holds (app/key-admin.ts). */
import { Command, Option } from '@commander-js/extra-typings';
import { erasePatient, placeLegalHold, releaseLegalHold, resolveConfig } from '../app/index.js';
import { databaseOption, dataDirOption, schemaOption } from './storage-options.js';

const retentionOption = () => new Option('--retention-policy <file>', 'retention rules (JSON) that refuse erasure while they apply').env('CUSTODIA_RETENTION_POLICY');

interface Flags {
  readonly dataDir: string;
  readonly database?: string | undefined;
  readonly schema?: string | undefined;
  readonly retentionPolicy?: string | undefined;
}

function configOf(o: Flags) {
  return resolveConfig(
    {
      dataDir: o.dataDir,
      ...(o.database === undefined ? {} : { database: o.database }),
      ...(o.schema === undefined ? {} : { postgresSchema: o.schema }),
      ...(o.retentionPolicy === undefined ? {} : { retentionPolicy: o.retentionPolicy }),
    },
    process.env,
  );
}

export function patientCommand(): Command<[], Record<string, unknown>> {
  const patient = new Command('patient').description('erasure (GDPR Art. 17) and legal holds').exitOverride();
  patient.addCommand(
    new Command('erase')
      .description("destroy a patient's data keys: every version of every record that is theirs alone becomes unreadable, backups included")
      .argument('<id>', 'the Patient id')
      .requiredOption('--reason <text>', 'why (recorded in the operator log)')
      .addOption(dataDirOption())
      .addOption(databaseOption())
      .addOption(schemaOption())
      .addOption(retentionOption())
      .exitOverride()
      .action(async (id, o) => {
        const r = await erasePatient(configOf(o), id, o.reason);
        process.stdout.write(
          `Erased Patient/${r.patient}: ${r.keys} data keys destroyed, ${r.versions} versions of ${r.resources} records unreadable.${r.sharedKept > 0 ? ` ${r.sharedKept} records shared with other patients were kept.` : ''}\n`,
        );
      }),
  );
  patient.addCommand(
    new Command('hold')
      .description('place a legal hold: the patient cannot be erased until it is released')
      .argument('<id>', 'the Patient id')
      .requiredOption('--reason <text>', 'the claim, case or order')
      .addOption(dataDirOption())
      .addOption(databaseOption())
      .addOption(schemaOption())
      .exitOverride()
      .action(async (id, o) => {
        await placeLegalHold(configOf(o), id, o.reason);
        process.stdout.write(`Legal hold placed on Patient/${id}.\n`);
      }),
  );
  patient.addCommand(
    new Command('release-hold')
      .description('release a legal hold')
      .argument('<id>', 'the Patient id')
      .addOption(dataDirOption())
      .addOption(databaseOption())
      .addOption(schemaOption())
      .exitOverride()
      .action(async (id, o) => {
        const released = await releaseLegalHold(configOf(o), id);
        process.stdout.write(released ? `Legal hold on Patient/${id} released.\n` : `Patient/${id} had no legal hold.\n`);
        if (!released) process.exitCode = 1;
      }),
  );
  return patient as unknown as Command<[], Record<string, unknown>>;
}
