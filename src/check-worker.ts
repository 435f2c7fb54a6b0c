import { parentPort } from 'node:worker_threads';
import { checkImage, type CheckOptions } from './check-image.js';

/** Checks the batches of files the pool sends and posts the results back. */
interface Batch {
  id: number;
  paths: string[];
  options: CheckOptions;
}

parentPort!.on('message', (batch: Batch) => {
  const results = batch.paths.map((p) => checkImage(p, batch.options));
  parentPort!.postMessage({ id: batch.id, results });
});
