/**
 * Device-bound telemetry topics (issue 6 §1–§2; threat-model.md, "Device telemetry").
 *
 * A telemetry message names its sender in its body (`SrcMac`, `SrcAddr`), and anyone who
 * may publish on the topic can write any name there. The broker, though, knows who
 * published: each device signs in as itself (a password, or a client certificate with
 * Mosquitto's `use_identity_as_username`) and an ACL lets it write only under its own
 * name (`pattern write custodia/telemetry/%u`, mosquitto.conf(5)). With
 * `--detect-device-level N`, level N of the topic (MQTT 3.1.1 §4.7: levels split on `/`)
 * is the FHIR id of the Device the broker let publish there, and a message is admitted
 * only when its named sender is that Device (device-directory.ts: by MAC, else by IP):
 *
 * - a topic whose level N is not a FHIR id (R4 §2.24.0.1, `[A-Za-z0-9\-.]{1,64}`), or
 *   that names no registered Device, is refused;
 * - a registered Device's topic carrying a record in another sender's name (another
 *   Device, or an address no Device has) is refused and is an **impersonation**: the
 *   stream raises a finding against the Device whose credentials published it.
 *
 * A refused record is never scored, counted in arrival rates or inventoried, so that no
 * publisher can feed or flood another device's baseline.
 */
import { senderKey, type FindingDraft, type TelemetryRecord } from '../detect/index.js';
import type { DeviceDirectory } from './device-directory.js';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export type TopicAdmission =
  | { readonly admitted: true; readonly device: string }
  | {
      readonly admitted: false;
      readonly reason: string;
      /** Set when a registered Device's topic carried a record in another sender's name. */
      readonly impersonation?: { readonly device: string; readonly claimed: string; readonly claimedDevice?: string };
    };

/** The Device id at `level` (1-based) of a topic, or undefined when that level is missing or not a FHIR id. */
export function topicDevice(topic: string, level: number): string | undefined {
  // The topic comes from the broker, chosen by whoever published: split, pick one level, check its grammar.
  const id = topic.split('/')[level - 1];
  return id !== undefined && FHIR_ID.test(id) ? `Device/${id}` : undefined;
}

export class TopicIdentity {
  constructor(
    private readonly devices: DeviceDirectory,
    /** The topic level (1-based) that names the publishing Device. */
    readonly level: number,
  ) {}

  async admit(topic: string, r: TelemetryRecord): Promise<TopicAdmission> {
    const device = topicDevice(topic, this.level);
    if (device === undefined) return { admitted: false, reason: `topic level ${this.level} is not a Device id` };
    if (!(await this.devices.known(device))) return { admitted: false, reason: `${device} is not a registered Device` };
    const sender = await this.devices.deviceOf(r.endpoints);
    if (sender === device) return { admitted: true, device };
    const claimed = senderKey(r.endpoints)!; // the parser insists on SrcAddr or SrcMac
    return {
      admitted: false,
      reason: `published as ${device} in the name of ${sender ?? 'an unregistered sender'}`,
      impersonation: { device, claimed, ...(sender === undefined ? {} : { claimedDevice: sender }) },
    };
  }
}

/**
 * The finding an impersonation raises, against the Device whose topic (and so whose
 * broker credentials) carried it. Its window is the vault's time of receipt: the
 * record's own `ts` is the impostor's to choose. Repeats merge into one open finding
 * (the features are empty, so the dedup key is the device and the detector).
 */
export function impersonationFinding(i: { readonly device: string; readonly claimed: string; readonly claimedDevice?: string }, receivedMs: number): FindingDraft {
  const as = i.claimedDevice === undefined ? `${i.claimed}, which no Device has` : `${i.claimed} (${i.claimedDevice})`;
  return {
    device: i.device,
    severity: 'high',
    start: receivedMs,
    end: receivedMs,
    summary: `Telemetry published with ${i.device}'s broker identity named another sender: ${as}`,
    explanation: { detector: 'device-identity', label: 'sender-mismatch', score: 1, threshold: 0, features: [] },
  };
}
