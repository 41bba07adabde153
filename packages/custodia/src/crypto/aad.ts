/**
 * Associated data that binds a ciphertext to where it belongs. A resource version's
 * ciphertext is bound to its resource type, id and version number, so a row copied onto
 * another record, or another version of the same one, fails to decrypt. The parts are
 * joined with NUL, which neither a resource type nor a FHIR id (`[A-Za-z0-9\-.]{1,64}`)
 * can contain, so two different triples never give the same bytes.
 */
import { CustodiaError } from '../kernel/index.js';

const PURPOSE = 'custodia/resource-version/v1';
const TYPE = /^[A-Z][A-Za-z]{1,63}$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * @example
 *   resourceVersionAad('Observation', 'o1', 3); // bytes of 'custodia/resource-version/v1\0Observation\0o1\03'
 */
export function resourceVersionAad(type: string, id: string, versionId: number): Buffer {
  if (!TYPE.test(type) || !ID.test(id) || !Number.isSafeInteger(versionId) || versionId < 1) {
    throw new CustodiaError('internal', 'A resource version is named by its type, id and a positive version number');
  }
  return Buffer.from(`${PURPOSE}\u0000${type}\u0000${id}\u0000${versionId}`, 'utf8');
}
