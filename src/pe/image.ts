import type { CallSiteAnalysis } from '../callsites/types.js';
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
  /** Calls to DDIs of interest in the code, when call-site analysis ran (see src/callsites/). */
  callSites?: CallSiteAnalysis;
}

export type ParseResult = { ok: true; image: PeImage } | { ok: false; error: MalformedImageError };

export function parseImage(src: ByteSource): ParseResult {
  try {
    const headers = parseHeaders(src);
    const imports = parseImports(src, headers);
    const other = unsupportedMachine(headers);
    if (other) return { ok: true, image: { headers, imports, relocations: other.relocations, skipped: [other.note] } };
    const relocations = walkRelocations(src, headers);
    const skipped = relocations.skipped ? [relocations.skipped] : [];
    return { ok: true, image: { headers, imports, relocations, skipped } };
  } catch (err) {
    if (err instanceof MalformedImageError) return { ok: false, error: err };
    // A read past the end that the bounds checks missed still means a bad image, not a crash.
    if (err instanceof RangeError) {
      return { ok: false, error: new MalformedImageError(`inconsistent image: ${err.message}`, 0, 'unknown') };
    }
    throw err;
  }
}
