import type { Finding, SourceLocation } from '../findings.js';
import { hex } from '../pe/errors.js';
import { displayPath, pathInside } from './paths.js';

/** `src/driver.c:42` or `src/driver.c:42:7`, the file shown as displayPath shows paths. */
export function sourcePlace(s: SourceLocation, cwd: string): string {
  return `${displayPath(s.file, cwd)}:${s.line}${s.column !== undefined ? `:${s.column}` : ''}`;
}

/** Where in the image a finding is: `section .text, RVA 0x100F, file offset 0x40F`. */
export function binaryPlace(f: Finding): string {
  const parts: string[] = [];
  if (f.section !== undefined) parts.push(`section ${f.section}`);
  if (f.rva !== undefined) parts.push(`RVA ${hex(f.rva)}`);
  if (f.offset !== undefined) parts.push(`file offset ${hex(f.offset)}`);
  return parts.join(', ');
}

/** The finding's source location with the file shown as in the report. */
export function shownSource(s: SourceLocation, cwd: string): SourceLocation {
  return {
    ...s,
    file: displayPath(s.file, cwd),
    ...(s.object !== undefined ? { object: displayPath(s.object, cwd) } : {}),
    ...(s.inlinedAt !== undefined ? { inlinedAt: { ...s.inlinedAt, file: displayPath(s.inlinedAt.file, cwd) } } : {}),
  };
}

/**
 * The source location that code scanning and annotations can place: one under the working
 * directory (the checkout). A build machine's path that no path map brought here cannot be
 * shown in a pull request; the image stays the primary location then.
 */
export function placeableSource(f: Finding, cwd: string): SourceLocation | undefined {
  return f.source && pathInside(f.source.file, cwd) !== undefined ? f.source : undefined;
}
