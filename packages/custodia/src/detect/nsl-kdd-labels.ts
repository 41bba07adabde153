/**
 * NSL-KDD labels: `normal` or the name of an attack, mapped to the binary target
 * (normal / attack) and to the four attack classes of the KDD Cup 1999 task.
 *
 * The 22 attack types of the training data and their classes are those of the KDD Cup
 * 1999 file `training_attack_types` (UCI KDD Archive, kdd.ics.uci.edu/databases/kddcup99/),
 * with the classes of the task description (task.html): DoS (denial of service), Probe
 * (surveillance and probing), R2L (unauthorised access from a remote machine) and U2R
 * (unauthorised access to local superuser privileges). The 17 types that appear only in
 * the NSL-KDD test sets come from the DARPA 1998/1999 evaluations; their classes here
 * are the ones commonly used with NSL-KDD. Sources disagree on `httptunnel` (U2R in most
 * NSL-KDD code, R2L in some); we follow the majority. Only training types occur in the
 * repository's fixture, so no figure we report depends on that choice.
 *
 * A label we do not know (and the ARFF files' binary `anomaly`) is an attack of unknown
 * class: in NSL-KDD everything that is not `normal` is an attack.
 */

export type AttackClass = 'DoS' | 'Probe' | 'R2L' | 'U2R';

export const ATTACK_CLASSES: readonly AttackClass[] = Object.freeze(['DoS', 'Probe', 'R2L', 'U2R']);

const TRAINING_TYPES: Readonly<Record<string, AttackClass>> = {
  back: 'DoS', land: 'DoS', neptune: 'DoS', pod: 'DoS', smurf: 'DoS', teardrop: 'DoS',
  ipsweep: 'Probe', nmap: 'Probe', portsweep: 'Probe', satan: 'Probe',
  ftp_write: 'R2L', guess_passwd: 'R2L', imap: 'R2L', multihop: 'R2L', phf: 'R2L', spy: 'R2L', warezclient: 'R2L', warezmaster: 'R2L',
  buffer_overflow: 'U2R', loadmodule: 'U2R', perl: 'U2R', rootkit: 'U2R',
};

const TEST_ONLY_TYPES: Readonly<Record<string, AttackClass>> = {
  apache2: 'DoS', mailbomb: 'DoS', processtable: 'DoS', udpstorm: 'DoS',
  mscan: 'Probe', saint: 'Probe',
  named: 'R2L', sendmail: 'R2L', snmpgetattack: 'R2L', snmpguess: 'R2L', worm: 'R2L', xlock: 'R2L', xsnoop: 'R2L',
  httptunnel: 'U2R', ps: 'U2R', sqlattack: 'U2R', xterm: 'U2R',
};

const CLASS_OF: ReadonlyMap<string, AttackClass> = new Map([...Object.entries(TRAINING_TYPES), ...Object.entries(TEST_ONLY_TYPES)]);

export interface NslKddLabel {
  /** The label as written (`normal`, `neptune`, …). */
  readonly type: string;
  /** True for everything but `normal`. */
  readonly attack: boolean;
  /** The attack's class; undefined for `normal` and for attack names we do not know. */
  readonly attackClass: AttackClass | undefined;
}

/**
 * The binary and four-class meaning of an NSL-KDD label.
 *
 * @example
 *   nslKddLabel('neptune');  // { type: 'neptune', attack: true, attackClass: 'DoS' }
 *   nslKddLabel('normal');   // { type: 'normal', attack: false, attackClass: undefined }
 */
export function nslKddLabel(type: string): NslKddLabel {
  const attack = type !== 'normal';
  return { type, attack, attackClass: attack ? CLASS_OF.get(type) : undefined };
}

/** The attack types of the training data (the KDD Cup 1999 `training_attack_types` list). */
export const NSL_KDD_TRAINING_ATTACK_TYPES: readonly string[] = Object.freeze(Object.keys(TRAINING_TYPES));
