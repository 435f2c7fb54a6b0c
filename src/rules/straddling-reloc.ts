import { RELOC_TYPE_NAMES } from '../pe/constants.js';
import { hex } from '../pe/errors.js';
import { sectionForRva } from '../pe/headers.js';
import { WINDOWS_1703_BUILD } from '../windows-version.js';
import { globalAt } from './symbol-context.js';
import type { Rule } from './types.js';

export const straddlingReloc: Rule = {
  meta: {
    id: 'straddling-reloc',
    name: 'NoPageStraddlingRelocations',
    defaultSeverity: 'error',
    summary: 'A base relocation patches bytes on both sides of a 4 KiB page boundary.',
    explanation:
      'When ASLR moves the driver, the loader patches every base relocation. In Windows 10 ' +
      'versions 1507 through 1607 a relocation cannot straddle a page boundary: a 64-bit address ' +
      'at page offset 0xFFC runs into the next page. This comes from global initialisers with ' +
      'misaligned pointers (packed structs, large arrays of them) or from assembler code. ' +
      'Windows 10 version 1703 and later support such relocations, so the finding is a warning ' +
      'when the configured minimum Windows version is 1703 or later.',
    // Measured with lld-link 19 on Microsoft's packed-struct example (test/straddle-fix.test.ts):
    // /Gy-, /Gy and /Gy /Gw leave the same straddlers; natural alignment or run-time filling removes them.
    fix:
      'Keep pointer fields naturally aligned in initialised globals: no #pragma pack(1) (pshpack1.h) ' +
      'around structs that hold pointers, or fill such pointers at run time instead of in the ' +
      "initialiser. Or set minWindowsVersion: '1703' in the config if the driver never runs on " +
      'Windows 10 1507 to 1607. /Gy and /Gw do not change them.',
    reference: 'Warning table: Unsupported Relocs',
    securitySeverity: 5.5,
    message: '{type} relocation at RVA {rva} ({section}) patches {width} bytes from page offset {pageOffset}, across a 4 KiB page boundary',
    messages: {
      global: '{type} relocation at RVA {rva} ({section}) patches {width} bytes from page offset {pageOffset}, across a 4 KiB page boundary, in {global}',
      'global-object': '{type} relocation at RVA {rva} ({section}) patches {width} bytes from page offset {pageOffset}, across a 4 KiB page boundary, in {global} ({object})',
    },
  },
  check(image, ctx) {
    const sections = image.headers.sections;
    const lowered = ctx.minWindowsBuild !== undefined && ctx.minWindowsBuild >= WINDOWS_1703_BUILD;
    return image.relocations.straddling.map((r) => {
      const section = sectionForRva(sections, r.rva)?.name ?? '(headers)';
      // The variable whose initialiser holds the pointer, when the PDB names it.
      const holder = globalAt(r.rva, ctx);
      return {
        ...(holder ? { messageId: holder.object !== undefined ? 'global-object' : 'global' } : {}),
        section,
        rva: r.rva,
        offset: r.entryOffset,
        length: 2,
        ...(lowered ? { defaultSeverity: 'warning' as const } : {}),
        args: {
          type: RELOC_TYPE_NAMES[r.type] ?? String(r.type),
          rva: hex(r.rva),
          section,
          width: r.width,
          pageOffset: hex(r.rva & 0xfff),
          ...holder,
        },
      };
    });
  },
};
