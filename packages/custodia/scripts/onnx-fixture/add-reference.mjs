#!/usr/bin/env node
// Adds the reference row to an NSL-KDD ONNX sidecar: Custodia's normalReferenceRow over the
// records of the NSL-KDD 20% fixture labelled normal (each numeric feature's median, each
// categorical feature's most frequent category, encoded as the model's input), which
// occlusion explanations judge an alert's features against (docs/detect.md).
//
// Usage (after `npm run build`): node add-reference.mjs SIDECAR [input]
import { readFileSync, writeFileSync } from 'node:fs';
import { readAllFlowRows } from '../../dist/app/flow-rows.js';
import { normalReferenceRow, schemaForFormat, selectRows } from '../../dist/detect/index.js';

const [sidecarPath, input = new URL('../../test/fixtures/nsl-kdd/KDDTrain+_20Percent.txt', import.meta.url).pathname] = process.argv.slice(2);
if (sidecarPath === undefined) throw new Error('usage: add-reference.mjs SIDECAR [input]');
const schema = schemaForFormat('nsl-kdd');
const { matrix, classes } = await readAllFlowRows(input, 'nsl-kdd', schema);
const normal = classes.flatMap((c, i) => (c === 'normal' ? [i] : []));
const reference = [...normalReferenceRow(schema, selectRows(matrix, normal))];
const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8'));
writeFileSync(sidecarPath, JSON.stringify({ ...sidecar, reference }, null, 2) + '\n');
process.stderr.write(`reference row from ${normal.length} normal records written to ${sidecarPath}\n`);
