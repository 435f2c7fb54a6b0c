import { parentPort } from 'node:worker_threads';
import { snapshotDecoder, type DecoderProvider } from './callsites/iced.js';
import { checkImage, type CheckOptions } from './check-image.js';

/** Checks the batches of files the pool sends and posts the results back. */
interface Batch {
  id: number;
  paths: string[];
  options: CheckOptions;
  /** The caller's decoder uses the cache directory: so does this worker's. */
  caching: boolean;
}

let decoder: DecoderProvider | undefined;

parentPort!.on('message', (batch: Batch) => {
  if (batch.caching) decoder ??= snapshotDecoder();
  const options = decoder ? { ...batch.options, decoder } : batch.options;
  const results = batch.paths.map((p) => checkImage(p, options));
  parentPort!.postMessage({ id: batch.id, results });
});
