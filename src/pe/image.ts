import { MalformedImageError } from './errors.js';
import { parseHeaders, unsupportedMachine, type PeHeaders } from './headers.js';
import { parseImports, type ImportedModule } from './imports.js';
import { walkRelocations, type RelocationSummary } from './relocations.js';
import type { ByteSource } from './source.js';

/** What the rules look at: the headers and the parsed directories of one image. */
export interface PeImage {
  headers: PeHeaders;
  imports: ImportedModule[];
  relocations: RelocationSummary;
  /** Parts that were not checked, and why (the loader ignores them). */
  skipped: string[];
}

export type ParseResult = { ok: true; image: PeImage } | { ok: false; error: MalformedImageError };

export function parseImage(src: ByteSource): ParseResult {
  try {
    const headers = parseHeaders(src);
    const skipped: string[] = [];
    const imports = parseImports(src, headers, skipped);
    const other = unsupportedMachine(headers);
    if (other) return { ok: true, image: { headers, imports, relocations: other.relocations, skipped: [...skipped, other.note] } };
    const relocations = walkRelocations(src, headers);
    if (relocations.skipped) skipped.push(relocations.skipped);
    return { ok: true, image: { headers, imports, relocations, skipped } };
  } catch (err) {
    // Only errors that describe the input; anything else is a bug, reported as one (exit 3).
    if (err instanceof MalformedImageError) return { ok: false, error: err };
    throw err;
  }
}
