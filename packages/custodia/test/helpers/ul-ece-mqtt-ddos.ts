/**
 * The UL-ECE-MQTT-DDoS-H-IoT2025 fixture (test/fixtures/ul-ece-mqtt-ddos/README.md): one row
 * per MQTT message of a simulated healthcare-IoT network, in the order they were sent,
 * with the sending node, that node's running message count and the data set's label.
 * The file is read strictly (exact header, whole numbers, a 0/1 outcome, `total_message`
 * counting 1, 2, 3, …), so a damaged fixture fails loudly instead of replaying garbage.
 */
import { readFileSync } from 'node:fs';
import type { Monitor } from './telemetry.js';

const FILE = new URL('../fixtures/ul-ece-mqtt-ddos/UL-ECE-MQTT-DDoS-H-IoT2025.csv', import.meta.url);
const HEADER = 'node,total_message,total_messages_each_node,frequency,outcome';

export interface UlEceRow {
  /** The sending node (2 to 20 in this file). */
  readonly node: number;
  /** 1-based position of the message in the whole simulation. */
  readonly sequence: number;
  /** How many messages this node had sent, this one included. */
  readonly nodeCount: number;
  /** The data set's label: 1 when the node's share of messages so far is above the authors' threshold. */
  readonly outcome: 0 | 1;
}

const whole = (text: string, line: number): number => {
  if (!/^\d{1,6}$/.test(text)) throw new Error(`fixture line ${line}: ${JSON.stringify(text)} is not a whole number`);
  return Number(text);
};

/** Every row of the fixture, in file order. */
export function readUlEceRows(): UlEceRow[] {
  const [header, ...lines] = readFileSync(FILE, 'utf8').trimEnd().split('\n');
  if (header !== HEADER) throw new Error(`fixture header is ${JSON.stringify(header)}`);
  return lines.map((text, i) => {
    const [node, sequence, nodeCount, , outcome, ...rest] = text.split(',');
    if (rest.length > 0 || outcome === undefined) throw new Error(`fixture line ${i + 2}: not 5 columns`);
    if (outcome !== '0' && outcome !== '1') throw new Error(`fixture line ${i + 2}: outcome ${JSON.stringify(outcome)}`);
    const row = { node: whole(node!, i + 2), sequence: whole(sequence!, i + 2), nodeCount: whole(nodeCount!, i + 2), outcome: outcome === '1' ? 1 : 0 } as const;
    if (row.sequence !== i + 1) throw new Error(`fixture line ${i + 2}: total_message ${row.sequence}, expected ${i + 1}`);
    return row;
  });
}

/** The node as a networked device of its own: a locally administered MAC and an address, both ending in the node number. */
export function nodeDevice(node: number): Monitor {
  return { mac: `02:00:00:ec:e0:${node.toString(16).padStart(2, '0')}`, addr: `10.0.236.${node}` };
}
