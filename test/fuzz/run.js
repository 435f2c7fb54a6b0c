// Structure-aware fuzzing of checkImage over the fixture images (test/.cache/fixtures/*.sys,
// built by the test setup):
//
//   npm run fuzz -- --seed 7 --seconds 60 [--inputs N] [--slow-ms 1000] [--fail-ms 10000] [--out DIR]
//
// Each round copies a fixture and applies one to four mutations aimed at what the parser
// and the rules read: header fields, section headers, data directories, relocation
// blocks, import descriptors, .pdata entries, code bytes (with calls through IAT slots),
// plain byte flips and truncation; now and then it mutates a fixture's PDB instead and
// checks the image by path, so the PDB reader runs too. checkImage must never throw: each
// exception is reported with the input saved under --out, and the run exits 1. Inputs
// slower than --slow-ms are listed; one slower than --fail-ms fails the run (a hang in
// waiting). The peak memory of the run is printed. Same seed, same inputs: a run checks a
// prefix of the seed's sequence, ending at --seconds or after --inputs, whichever comes
// first (CI sets both, so a faster machine does not check inputs a slower one never saw).
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkImage } from '../../dist/index.js';
import { parseHeaders } from '../../dist/pe/headers.js';
import { bufferSource } from '../../dist/pe/source.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '20' },
    inputs: { type: 'string', default: String(Number.MAX_SAFE_INTEGER) },
    'slow-ms': { type: 'string', default: '1000' },
    'fail-ms': { type: 'string', default: '10000' },
    out: { type: 'string', default: new URL('../.cache/fuzz/', import.meta.url).pathname },
  },
});
const seed = Number(values.seed);
const seconds = Number(values.seconds);
const maxInputs = Number(values.inputs);
const slowMs = Number(values['slow-ms']);
const failMs = Number(values['fail-ms']);
if (![seed, seconds, maxInputs, slowMs, failMs].every(Number.isFinite)) {
  console.error('fuzz: --seed, --seconds, --inputs, --slow-ms and --fail-ms take numbers');
  process.exit(2);
}

const FIXTURES = new URL('../.cache/fixtures/', import.meta.url).pathname;
let names;
try {
  names = readdirSync(FIXTURES).filter((n) => n.endsWith('.sys')).sort();
} catch {
  names = [];
}
if (names.length === 0) {
  console.error(`fuzz: no fixture images in ${FIXTURES}; run npm test once to build them`);
  process.exit(2);
}

/** Each fixture with its parsed headers and where its directories are in the file. */
const corpus = names.map((name) => {
  const bytes = readFileSync(join(FIXTURES, name));
  const h = parseHeaders(bufferSource(bytes));
  const pdb = name.replace(/\.sys$/, '.pdb');
  return { name, bytes, h, pdb: names.includes(name) && safeRead(join(FIXTURES, pdb)) };
});
const withPdb = corpus.filter((c) => c.pdb);

function safeRead(path) {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

// mulberry32, as test/helpers/image-edit.ts: repeatable runs.
let state = seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(random() * n);
const pick = (list) => list[int(list.length)];

/** Values that break bounds checks: edges, powers of two, and values near the image's own. */
function interesting(old, c) {
  return pick([
    0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0xfff, 0x1000, 0x1001, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
    c.bytes.length, c.bytes.length - 1, c.bytes.length + 1, c.h.sizeOfImage, c.h.sizeOfImage - 1,
    (old + 1) >>> 0, (old - 1) >>> 0, (old + 0x1000) >>> 0, (old ^ (1 << int(32))) >>> 0, int(0x100000000), int(c.h.sizeOfImage + 1),
  ]) >>> 0;
}

function fileOffset(c, rva) {
  for (const s of c.h.sections) {
    if (rva >= s.virtualAddress && rva < s.virtualAddress + Math.max(s.virtualSize, s.sizeOfRawData)) {
      const off = s.pointerToRawData + (rva - s.virtualAddress);
      return off < c.bytes.length ? off : undefined;
    }
  }
  return undefined;
}

function put32(b, off, v) {
  if (off >= 0 && off + 4 <= b.length) b.writeUInt32LE(v >>> 0, off);
}
// Reads that give 0 out of bounds: an earlier mutation may have truncated the input.
function get32(b, off) {
  return off >= 0 && off + 4 <= b.length ? b.readUInt32LE(off) : 0;
}
function get16(b, off) {
  return off >= 0 && off + 2 <= b.length ? b.readUInt16LE(off) : 0;
}
function put16(b, off, v) {
  if (off >= 0 && off + 2 <= b.length) b.writeUInt16LE(v & 0xffff, off);
}

const opt = (c) => c.h.peOffset + 24;

/** Mutations, each aimed at one structure; they edit `b` in place and may return a shorter copy. */
const MUTATIONS = {
  header(b, c) {
    const o = opt(c);
    const fields = [
      [0x3c, 4], [c.h.peOffset + 4, 2], [c.h.peOffset + 6, 2], [c.h.peOffset + 20, 2], [c.h.peOffset + 22, 2],
      [o, 2], [o + 16, 4], [o + 32, 4], [o + 36, 4], [o + 56, 4], [o + 60, 4], [o + 70, 2], [o + (c.h.is64 ? 108 : 92), 4],
    ];
    const [off, size] = pick(fields);
    const old = size === 4 ? get32(b, off) : get16(b, off);
    (size === 4 ? put32 : put16)(b, off, interesting(old, c));
  },
  section(b, c) {
    const s = pick(c.h.sections);
    const off = s.headerOffset + pick([0, 8, 12, 16, 20, 36]);
    if (off === s.headerOffset) b.write(pick(['.text\0\0\0', 'INIT\0\0\0\0', '\x1b[31m\n\0\0', '\xff\xfe\x9b\0\0\0\0\0']), off, 'latin1');
    else put32(b, off, interesting(get32(b, off), c));
  },
  directory(b, c) {
    const i = pick([1, 1, 3, 5, 5, 6, 12, int(16)]);
    const entry = opt(c) + (c.h.is64 ? 112 : 96) + i * 8;
    const other = c.h.dataDirectories[int(16)];
    if (random() < 0.3) {
      put32(b, entry, other.rva);
      put32(b, entry + 4, other.size);
    } else put32(b, entry + int(2) * 4, interesting(get32(b, entry), c));
  },
  relocations(b, c) {
    const d = c.h.dataDirectories[5];
    const at = fileOffset(c, d.rva);
    if (at === undefined || d.size < 8) return MUTATIONS.bytes(b, c);
    const r = random();
    if (r < 0.3) put32(b, at + pick([0, 4]), interesting(get32(b, at), c));
    else if (r < 0.6) {
      // Entries of every type at page offsets near the end of the page.
      for (let k = 8; k < Math.min(d.size, 64); k += 2) put16(b, at + k, (int(16) << 12) | (0xff0 + int(16)));
    } else {
      const k = 8 + 2 * int(Math.max(1, (d.size - 8) / 2));
      put16(b, at + k, int(0x10000));
    }
  },
  imports(b, c) {
    const d = c.h.dataDirectories[1];
    const at = fileOffset(c, d.rva);
    if (at === undefined) return MUTATIONS.bytes(b, c);
    const count = Math.max(1, Math.floor(d.size / 20) - 1);
    const desc = at + 20 * int(count);
    const r = random();
    if (r < 0.15) {
      // Descriptor 0 repeated over the rest of its section's file data: one table, many users.
      const end = Math.min(b.length, at + 20 * 4096);
      for (let k = at + 20; k + 40 <= end; k += 20) b.copy(b, k, at, at + 20);
    } else if (r < 0.3) {
      // Every descriptor on the first one's lookup table and IAT.
      for (let k = 1; k < count; k++) {
        put32(b, at + 20 * k, get32(b, at));
        put32(b, at + 20 * k + 16, get32(b, at + 16));
      }
    } else if (r < 0.5) {
      // Lookup table pointing back at the descriptors, or into itself one entry on.
      put32(b, desc, random() < 0.5 ? d.rva : (get32(b, desc) + (c.h.is64 ? 8 : 4)) >>> 0);
    } else if (r < 0.7) {
      // Remove the terminator: the table runs on into what follows.
      b.fill(0x41, at + 20 * count, at + 20 * count + 20);
    } else put32(b, desc + pick([0, 4, 8, 12, 16]), interesting(get32(b, desc), c));
  },
  pdata(b, c) {
    const d = c.h.dataDirectories[3];
    const at = fileOffset(c, d.rva);
    if (at === undefined || d.size < 12) return MUTATIONS.code(b, c);
    const e = at + 12 * int(Math.floor(d.size / 12));
    put32(b, e + 4 * int(3), interesting(get32(b, e), c));
  },
  code(b, c) {
    const code = c.h.sections.filter((s) => (s.characteristics & 0x20000020) !== 0 && s.sizeOfRawData > 16);
    if (code.length === 0) return MUTATIONS.bytes(b, c);
    const s = pick(code);
    const off = s.pointerToRawData + int(s.sizeOfRawData - 16);
    const r = random();
    if (r < 0.4 && c.h.dataDirectories[12].rva !== 0) {
      // A call through an IAT slot (x64 RIP-relative or x86 absolute), after a constant.
      const slot = c.h.dataDirectories[12].rva + 4 * int(Math.max(1, c.h.dataDirectories[12].size / 4));
      const rva = s.virtualAddress + (off - s.pointerToRawData);
      b[off] = 0xb9; // mov ecx, imm32
      put32(b, off + 1, pick([0, 0x200, 0x80, int(0x100000000)]));
      b[off + 5] = 0xff;
      b[off + 6] = 0x15;
      put32(b, off + 7, c.h.is64 ? (slot - (rva + 11)) >>> 0 : Number((BigInt(slot) + c.h.imageBase) & 0xffffffffn));
    } else if (r < 0.7) {
      for (let k = 0; k < 16; k++) b[off + k] = int(256);
    } else b.fill(pick([0x00, 0xcc, 0xff, 0xe8]), off, off + 16);
  },
  bytes(b) {
    for (let k = 1 + int(8); k > 0; k--) b[int(b.length)] = int(256);
  },
  truncate(b) {
    return b.subarray(0, int(b.length));
  },
};
const KINDS = Object.keys(MUTATIONS);
// The structures more often than plain noise.
const WEIGHTED = [...KINDS, 'header', 'section', 'directory', 'relocations', 'imports', 'imports', 'pdata', 'code', 'code'];

function mutatePdb(pdb) {
  const b = Buffer.from(pdb);
  const r = random();
  if (r < 0.4) put32(b, pick([32, 36, 40, 44, 52]), pick([0, 1, 0x200, 0x1000, 0xfffff000, 0xffffffff, int(0x100000000), b.length]));
  else if (r < 0.7) {
    // The stream directory: stream count, sizes, block indices.
    const bs = b.readUInt32LE(32) || 4096;
    const mapBlock = b.readUInt32LE(52);
    const dirBlock = mapBlock * bs + 4 <= b.length ? b.readUInt32LE(mapBlock * bs) : 0;
    const at = dirBlock * bs + 4 * int(64);
    put32(b, at, pick([0, 0xffffffff, 0x7fffffff, int(0x100000000), int(64), b.length]));
  } else for (let k = 0; k < 32; k++) b[int(b.length)] = int(256);
  return b;
}

const outDir = values.out;
const scratch = mkdtempSync(join(tmpdir(), 'hvci-fuzz-'));
const failures = [];
const slow = [];
let rounds = 0;
const start = performance.now();
const deadline = start + seconds * 1000;

try {
  while (performance.now() < deadline && rounds < maxInputs) {
    rounds++;
    const usePdb = withPdb.length > 0 && random() < 0.1;
    const c = usePdb ? pick(withPdb) : pick(corpus);
    let input = Buffer.from(c.bytes);
    const applied = [];
    let pdb;
    if (usePdb) {
      pdb = mutatePdb(c.pdb);
      applied.push('pdb');
    } else {
      for (let n = 1 + int(4); n > 0; n--) {
        const kind = pick(WEIGHTED);
        applied.push(kind);
        try {
          input = MUTATIONS[kind](input, c) ?? input;
        } catch {
          // The input was truncated under this mutation's offsets: it stays as it is.
        }
      }
    }
    let target = input;
    if (pdb) {
      // By path, with the PDB under both names the lookup tries.
      const dir = join(scratch, String(rounds));
      mkdirSync(dir);
      target = join(dir, 'drv.sys');
      writeFileSync(target, input);
      writeFileSync(join(dir, 'drv.pdb'), pdb);
      writeFileSync(join(dir, c.name.replace(/-[0-9a-f]{16}\.sys$/, '.pdb')), pdb);
    }
    const t0 = performance.now();
    try {
      checkImage(target);
    } catch (err) {
      failures.push({ round: rounds, fixture: c.name, applied, err, input, pdb });
    }
    const ms = performance.now() - t0;
    if (ms >= slowMs) slow.push({ round: rounds, fixture: c.name, applied, ms, input, pdb });
    if (pdb) rmSync(join(scratch, String(rounds)), { recursive: true, force: true });
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

function save(kind, f) {
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `${kind}-seed${seed}-round${f.round}`);
  writeFileSync(`${base}.sys`, f.input);
  if (f.pdb) writeFileSync(`${base}.pdb`, f.pdb);
  return `${base}.sys`;
}

const elapsed = (performance.now() - start) / 1000;
const peakMb = process.resourceUsage().maxRSS / 1024;
console.log(`fuzz: seed ${seed}, ${rounds} inputs from ${corpus.length} fixtures in ${elapsed.toFixed(1)} s, peak memory ${peakMb.toFixed(0)} MB`);
for (const f of failures) {
  const msg = f.err instanceof Error ? `${f.err.name}: ${f.err.message}` : String(f.err);
  console.log(`EXCEPTION round ${f.round} (${f.fixture}; ${f.applied.join(', ')}): ${msg}\n  saved as ${save('exception', f)}`);
  // The engine wraps a bug in InternalCheckError: the cause's stack says where it is.
  const where = f.err instanceof Error && f.err.cause instanceof Error ? f.err.cause : f.err;
  if (where instanceof Error && where.stack) console.log(where.stack.split('\n').slice(0, 6).join('\n'));
}
const tooSlow = slow.filter((s) => s.ms >= failMs);
for (const s of slow.sort((a, b) => b.ms - a.ms).slice(0, 10)) {
  console.log(`${s.ms >= failMs ? 'TOO SLOW' : 'slow'} round ${s.round} (${s.fixture}; ${s.applied.join(', ')}): ${s.ms.toFixed(0)} ms\n  saved as ${save('slow', s)}`);
}
console.log(`fuzz: ${failures.length} exception(s), ${slow.length} input(s) over ${slowMs} ms, ${tooSlow.length} over ${failMs} ms`);
process.exitCode = failures.length > 0 || tooSlow.length > 0 ? 1 : 0;
