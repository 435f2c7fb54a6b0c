/**
 * Thrown by the parser when a file is not a consistent PE image. It carries the
 * file offset and the header field at fault so that the `malformed` finding can
 * point at them.
 */
export class MalformedImageError extends Error {
  readonly offset: number;
  readonly field: string;

  constructor(message: string, offset: number, field: string) {
    super(message);
    this.name = 'MalformedImageError';
    this.offset = offset;
    this.field = field;
  }
}

export function malformed(message: string, offset: number, field: string): never {
  throw new MalformedImageError(message, offset, field);
}

export function hex(n: number): string {
  return '0x' + n.toString(16).toUpperCase();
}
