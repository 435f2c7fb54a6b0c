/**
 * ARM64 (A64) instructions in the form of ./ir.ts. No maintained JavaScript A64 decoder
 * exists on npm (capstone and friends ship native or multi-megabyte builds), and the
 * forms that matter are few, so this decodes them from the Arm Architecture Reference
 * Manual's encoding tables: branches, adrp/adr, add/sub, mov (movz/movn/movk, orr), loads
 * and stores. Every other instruction clobbers the registers its encoding can write.
 */
import {
  BASE_ABS,
  FLOW_CALL,
  FLOW_COND_JUMP,
  FLOW_INDIRECT_CALL,
  FLOW_INDIRECT_JUMP,
  FLOW_JUMP,
  FLOW_NEXT,
  FLOW_RETURN,
  FLOW_STOP,
  FROM_MEMORY,
  MASK32,
  MASK64,
  addrVal,
  bit,
  constVal,
  type CodeBytes,
  type Effect,
  type Frontend,
  type Insn,
  type Machine,
  type Val,
} from './ir.js';

const SP = 31;
const FP = 29;
const ZR = 31;

let volatileMask = bit(30);
for (let r = 0; r <= 18; r++) volatileMask |= bit(r);

export const ARM64: Machine = {
  sp: SP,
  fp: FP,
  ptrSize: 8,
  // x0-x18 and the link register (x16/x17 are the intra-procedure-call scratch registers).
  volatile: volatileMask,
  argRegs: [0, 1, 2, 3, 4, 5, 6, 7],
  // Parameters 8 and later are at [sp], [sp + 8], ...; br (tail call) leaves sp as it is.
  stackArg: (i) => 8 * (i - 8),
  calleeArea: 0,
  regCount: 32,
};

const sext = (v: number, bits: number): number => (v << (32 - bits)) >> (32 - bits);

/** The bitmask immediate of AND/ORR/EOR (immediate), or undefined for a reserved encoding. */
export function decodeBitMask(n: number, imms: number, immr: number, regSize: 32 | 64): bigint | undefined {
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return undefined;
  const len = 31 - Math.clz32(combined);
  if (len < 1) return undefined;
  const size = 1 << len;
  if (size > regSize) return undefined;
  const levels = size - 1;
  const s = imms & levels;
  const r = immr & levels;
  if (s === levels) return undefined;
  const mask = (1n << BigInt(size)) - 1n;
  let elem = (1n << BigInt(s + 1)) - 1n;
  if (r > 0) elem = ((elem >> BigInt(r)) | (elem << BigInt(size - r))) & mask;
  let out = 0n;
  for (let i = 0; i < regSize; i += size) out |= elem << BigInt(i);
  return out;
}

const clobber = (effects: Effect[], ...regs: number[]): void => {
  let mask = 0;
  for (const r of regs) if (r !== ZR) mask |= bit(r);
  if (mask) effects.push({ op: 'clobber', mask });
};

/** Source register value for a store: register 31 is the zero register there. */
const storeSrc = (rt: number): { src: number; v?: ReturnType<typeof constVal> } =>
  rt === ZR ? { src: -1, v: constVal(0n) } : { src: rt };

function writeback(effects: Effect[], rn: number, delta: number): void {
  if (rn === SP) effects.push({ op: 'sp', delta });
  else effects.push({ op: 'alu', r: rn, s: rn, fn: 'add', imm: BigInt(delta) & MASK64, w32: false });
}

/** Loads and stores (op0 = x1x0). */
function loadStore(w: number, pc: number, effects: Effect[], code: CodeBytes): void {
  const rt = w & 31;
  const rn = (w >>> 5) & 31;
  const v = (w >>> 26) & 1;

  // Load/store register (unsigned immediate).
  if (((w & 0x3b000000) >>> 0) === 0x39000000) {
    const size = w >>> 30;
    const opc = (w >>> 22) & 3;
    const bytes = 1 << size;
    const disp = ((w >>> 10) & 0xfff) * bytes;
    access(effects, v, opc, size, rt, rn, disp, bytes);
    return;
  }
  // Load/store register (unscaled, post-index, unprivileged, pre-index).
  if (((w & 0x3b200000) >>> 0) === 0x38000000) {
    const size = w >>> 30;
    const opc = (w >>> 22) & 3;
    const imm9 = sext((w >>> 12) & 0x1ff, 9);
    const mode = (w >>> 10) & 3;
    const bytes = 1 << size;
    if (mode === 3) {
      writeback(effects, rn, imm9);
      access(effects, v, opc, size, rt, rn, 0, bytes);
    } else if (mode === 1) {
      access(effects, v, opc, size, rt, rn, 0, bytes);
      writeback(effects, rn, imm9);
    } else {
      access(effects, v, opc, size, rt, rn, imm9, bytes);
    }
    return;
  }
  // Load/store register (register offset): the address is not known.
  if (((w & 0x3b200c00) >>> 0) === 0x38200800) {
    const opc = (w >>> 22) & 3;
    if (opc === 0) effects.push({ op: 'memwrite', base: rn, disp: 0, indexed: true });
    else if (v === 0) effects.push({ op: 'set', r: rt, v: FROM_MEMORY });
    return;
  }
  // Load/store pair (no-allocate, post-index, offset, pre-index).
  if (((w & 0x3a000000) >>> 0) === 0x28000000) {
    const opc = w >>> 30;
    const mode = (w >>> 23) & 3;
    const load = (w >>> 22) & 1;
    const rt2 = (w >>> 10) & 31;
    const scale = v === 0 ? (opc === 2 ? 8 : 4) : 4 << opc;
    const disp = sext((w >>> 15) & 0x7f, 7) * scale;
    const at = mode === 2 || mode === 0 ? disp : 0;
    if (mode === 3) writeback(effects, rn, disp);
    if (load) {
      if (v === 0) {
        if (rt !== ZR) effects.push({ op: 'set', r: rt, v: FROM_MEMORY });
        if (rt2 !== ZR) effects.push({ op: 'set', r: rt2, v: FROM_MEMORY });
      }
    } else if (v === 0 && opc !== 1) {
      effects.push({ op: 'store', base: rn, disp: at, size: scale, ...storeSrc(rt) });
      effects.push({ op: 'store', base: rn, disp: at + scale, size: scale, ...storeSrc(rt2) });
    } else {
      effects.push({ op: 'memwrite', base: rn, disp: at });
    }
    if (mode === 1) writeback(effects, rn, disp);
    return;
  }
  // Load register (literal), PC-relative.
  if (((w & 0x3b000000) >>> 0) === 0x18000000) {
    const opc = w >>> 30;
    if (v === 1 || opc === 3) return;
    const addr = pc + sext((w >>> 5) & 0x7ffff, 19) * 4;
    if (opc === 1) effects.push({ op: 'load', r: rt, base: BASE_ABS, disp: addr, size: 8 });
    else if (rt !== ZR) effects.push({ op: 'set', r: rt, v: opc === 0 ? literal32(code, addr) : FROM_MEMORY });
    return;
  }
  // Exclusive, atomic, structure and other forms: whatever registers the encoding names
  // may be written, and memory at [Rn].
  clobber(effects, rt, (w >>> 10) & 31, (w >>> 16) & 31);
  effects.push({ op: 'memwrite', base: rn, disp: 0, indexed: true });
  // AdvSIMD structure loads/stores, post-indexed, write back to Rn.
  if (((w & 0xbf800000) >>> 0) === 0x0c800000 || ((w & 0xbf800000) >>> 0) === 0x0d800000) {
    if (rn === SP) effects.push({ op: 'spunknown' });
    else clobber(effects, rn);
  }
}

/**
 * `ldr wN, <literal>`: MSVC's ARM64 code keeps 32-bit constants it cannot build in one
 * instruction (0x40000010) in a literal pool inside the function. A 32-bit literal in the
 * code is never relocated (ARM64 images relocate 64-bit pointers), so it is that constant.
 */
function literal32(code: CodeBytes, addr: number): Val {
  const at = addr - code.start;
  if (at < 0 || at + 4 > code.bytes.length) return FROM_MEMORY;
  const b = code.bytes;
  return constVal(BigInt((b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0));
}

function access(effects: Effect[], v: number, opc: number, size: number, rt: number, rn: number, disp: number, bytes: number): void {
  if (v === 1) {
    // SIMD/FP registers: a store writes memory of a size the analysis does not follow.
    if ((opc & 1) === 0) effects.push({ op: 'memwrite', base: rn, disp });
    return;
  }
  if (opc === 0) {
    effects.push({ op: 'store', base: rn, disp, size: bytes, ...storeSrc(rt) });
    return;
  }
  if (size === 3 && opc === 2) return; // prfm
  if (rt === ZR) return;
  // ldr/ldrh/ldrb zero-extend; ldrs* sign-extend, which the analysis does not follow.
  if (opc === 1) effects.push({ op: 'load', r: rt, base: rn, disp, size: bytes, w32: size < 3 });
  else effects.push({ op: 'set', r: rt, v: FROM_MEMORY });
}

function dataImmediate(w: number, pc: number, effects: Effect[]): void {
  const rd = w & 31;
  const rn = (w >>> 5) & 31;
  const sf = w >>> 31;
  const w32 = sf === 0;
  // adr / adrp
  if (((w & 0x1f000000) >>> 0) === 0x10000000) {
    if (rd === ZR) return;
    const imm = sext((((w >>> 5) & 0x7ffff) << 2) | ((w >>> 29) & 3), 21);
    const value = sf ? (pc & ~0xfff) + imm * 4096 : pc + imm;
    effects.push({ op: 'set', r: rd, v: addrVal(value) });
    return;
  }
  // add/sub (immediate)
  if (((w & 0x1f800000) >>> 0) === 0x11000000) {
    const sub = (w >>> 30) & 1;
    const s = (w >>> 29) & 1;
    const imm = ((w >>> 10) & 0xfff) << ((w >>> 22) & 1 ? 12 : 0);
    if (s && rd === ZR) return; // cmp/cmn
    if (!s && rd === SP) {
      if (rn === SP && !w32) effects.push({ op: 'sp', delta: sub ? -imm : imm });
      else effects.push({ op: 'spunknown' });
      return;
    }
    effects.push({ op: 'alu', r: rd, s: rn, fn: sub ? 'sub' : 'add', imm: BigInt(imm), w32 });
    return;
  }
  // logical (immediate)
  if (((w & 0x1f800000) >>> 0) === 0x12000000) {
    const opc = (w >>> 29) & 3;
    const imm = decodeBitMask((w >>> 22) & 1, (w >>> 10) & 63, (w >>> 16) & 63, w32 ? 32 : 64);
    if (opc === 3 && rd === ZR) return; // tst
    if (rd === SP) {
      effects.push({ op: 'spunknown' });
      return;
    }
    if (imm === undefined) {
      clobber(effects, rd);
      return;
    }
    const fn = opc === 1 ? 'or' : opc === 2 ? 'xor' : 'and';
    if (rn === ZR) {
      const v = fn === 'and' ? 0n : imm;
      effects.push({ op: 'set', r: rd, v: constVal(v & (w32 ? MASK32 : MASK64)) });
    } else {
      effects.push({ op: 'alu', r: rd, s: rn, fn, imm, w32 });
    }
    return;
  }
  // move wide (immediate)
  if (((w & 0x1f800000) >>> 0) === 0x12800000) {
    if (rd === ZR) return;
    const opc = (w >>> 29) & 3;
    const hw = (w >>> 21) & 3;
    const imm16 = BigInt((w >>> 5) & 0xffff);
    const shift = 16 * hw;
    const mask = w32 ? MASK32 : MASK64;
    if ((w32 && hw > 1) || opc === 1) {
      clobber(effects, rd);
    } else if (opc === 0) {
      effects.push({ op: 'set', r: rd, v: constVal(~(imm16 << BigInt(shift)) & mask) });
    } else if (opc === 2) {
      effects.push({ op: 'set', r: rd, v: constVal((imm16 << BigInt(shift)) & mask) });
    } else {
      effects.push({ op: 'insert16', r: rd, imm: imm16, shift, w32 });
    }
    return;
  }
  // bitfield, extract, add/sub with tags: Rd is written with something not followed.
  if (rd === SP && ((w & 0x1f800000) >>> 0) === 0x11800000) effects.push({ op: 'spunknown' });
  else clobber(effects, rd);
}

function dataRegister(w: number, effects: Effect[]): void {
  const rd = w & 31;
  // logical (shifted register): orr Rd, zr, Rm is mov
  if (((w & 0x1f000000) >>> 0) === 0x0a000000) {
    const opc = (w >>> 29) & 3;
    const n = (w >>> 21) & 1;
    const rm = (w >>> 16) & 31;
    const rn = (w >>> 5) & 31;
    const imm6 = (w >>> 10) & 63;
    if (rd === ZR) return;
    if (opc === 1 && n === 0 && rn === ZR && imm6 === 0) {
      if (rm === ZR) effects.push({ op: 'set', r: rd, v: constVal(0n) });
      else effects.push({ op: 'copy', r: rd, s: rm, w32: w >>> 31 === 0 });
      return;
    }
    clobber(effects, rd);
    return;
  }
  // add/sub (extended register) may write sp
  if (((w & 0x1fe00000) >>> 0) === 0x0b200000 && ((w >>> 29) & 1) === 0 && rd === SP) {
    effects.push({ op: 'spunknown' });
    return;
  }
  clobber(effects, rd);
}

function decodeWord(w: number, pc: number, insn: Insn, code: CodeBytes): void {
  const e = insn.effects;
  // b, bl
  if (((w & 0x7c000000) >>> 0) === 0x14000000) {
    insn.flow = w >>> 31 ? FLOW_CALL : FLOW_JUMP;
    insn.target = pc + sext(w & 0x3ffffff, 26) * 4;
    return;
  }
  // b.cond, cbz/cbnz, tbz/tbnz
  if (((w & 0xff000010) >>> 0) === 0x54000000 || ((w & 0x7e000000) >>> 0) === 0x34000000) {
    insn.flow = FLOW_COND_JUMP;
    insn.target = pc + sext((w >>> 5) & 0x7ffff, 19) * 4;
    return;
  }
  if (((w & 0x7e000000) >>> 0) === 0x36000000) {
    insn.flow = FLOW_COND_JUMP;
    insn.target = pc + sext((w >>> 5) & 0x3fff, 14) * 4;
    return;
  }
  // br, blr, ret (and their pointer-authenticating forms)
  if (((w & 0xfe000000) >>> 0) === 0xd6000000) {
    const opc = (w >>> 21) & 0xf;
    const rn = (w >>> 5) & 31;
    if (opc === 0 || opc === 8) {
      insn.flow = FLOW_INDIRECT_JUMP;
      insn.viaReg = rn;
    } else if (opc === 1 || opc === 9) {
      insn.flow = FLOW_INDIRECT_CALL;
      insn.viaReg = rn;
    } else if (opc === 2) {
      insn.flow = FLOW_RETURN;
    } else {
      insn.flow = FLOW_STOP;
    }
    return;
  }
  // brk, udf: traps, and the padding between functions
  if (((w & 0xffe0001f) >>> 0) === 0xd4200000 || ((w & 0xffff0000) >>> 0) === 0) {
    insn.flow = FLOW_STOP;
    insn.padding = true;
    return;
  }
  // svc/hvc/smc and other exception generation: as a call
  if (((w & 0xff000000) >>> 0) === 0xd4000000) {
    insn.effects.push({ op: 'clobber', mask: ARM64.volatile });
    return;
  }
  if (w === 0xd503201f) {
    insn.padding = true; // nop
    return;
  }
  // system instructions: mrs and sysl write Rt
  if (((w & 0xffc00000) >>> 0) === 0xd5000000) {
    if ((w >>> 21) & 1) clobber(e, w & 31);
    return;
  }
  const op0 = (w >>> 25) & 0xf;
  if ((op0 & 0xe) === 0x8) return dataImmediate(w, pc, e);
  if ((op0 & 0x5) === 0x4) return loadStore(w, pc, e, code);
  if ((op0 & 0x7) === 0x5) return dataRegister(w, e);
  // SIMD/FP data processing (may move to a general register: fmov, umov, fcvtzs), SVE, SME
  clobber(e, w & 31);
}

export const arm64Frontend: Frontend = {
  dispose() {},
  // Fixed-width, aligned code never decodes out of step, so references need no second look.
  refAt: () => ({ len: 4, ref: -1 }),
  decode(code, from, to, budget) {
    const out: Insn[] = [];
    const bytes = code.bytes.subarray(from - code.start, to - code.start);
    const startRva = from;
    const count = Math.floor(bytes.length / 4);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) {
      if (budget.left-- <= 0) break;
      const pc = startRva + i * 4;
      const insn: Insn = { rva: pc, len: 4, flow: FLOW_NEXT, target: -1, viaSlot: -1, viaReg: -1, effects: [], padding: false };
      decodeWord(view.getUint32(i * 4, true), pc, insn, code);
      out.push(insn);
    }
    return out;
  },
};
