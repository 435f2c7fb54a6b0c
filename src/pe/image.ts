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
  /** Parts that were not checked, and why, as data: the skipped-check rule words them. */
  skipped: ParseSkip[];
}

/** A part of the image the parser did not read, and why. */
export type ParseSkip =
  /** RELOCS_STRIPPED: the loader ignores the relocation directory. */
  | { reason: 'relocs-stripped'; rva: number; size: number }
  /** A machine hvci-build does not check: relocations and code not read. */
  | { reason: 'machine'; machine: string; code: number }
  /** Descriptors whose lookup tables would name more imports than the file can hold. */
  | { reason: 'imports-budget'; first: number; last: number; fileSize: number; thunks: number };

export type ParseResult = { ok: true; image: PeImage } | { ok: false; error: MalformedImageError };

export function parseImage(src: ByteSource): ParseResult {
  try {
    const headers = parseHeaders(src);
    const skipped: ParseSkip[] = [];
    const imports = parseImports(src, headers, skipped);
    const other = unsupportedMachine(headers);
    if (other) return { ok: true, image: { headers, imports, relocations: other.relocations, skipped: [...skipped, other.note] } };
    const relocations = walkRelocations(src, headers);
    if (relocations.skipped) skipped.push({ reason: 'relocs-stripped', ...relocations.skipped });
    return { ok: true, image: { headers, imports, relocations, skipped } };
  } catch (err) {
    // Only errors that describe the input; anything else is a bug, reported as one (exit 3).
    if (err instanceof MalformedImageError) return { ok: false, error: err };
    throw err;
  }
}
