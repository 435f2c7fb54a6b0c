import { readFileSync } from 'node:fs';
import { toolEnvVar, type ToolName } from './find-tool.js';

/** The package managers whose package names hvci-build knows. */
export type Host = 'debian' | 'fedora' | 'arch' | 'homebrew' | 'windows' | 'other';

/**
 * Which package has each tool, per host. Debian's clang-cl-19 is in
 * clang-tools-19, not clang-19 (which only recommends it), so naming clang-19
 * would send someone who has clang-19 back to what they already did.
 */
const PACKAGES: Record<Exclude<Host, 'windows' | 'other'>, Record<ToolName, string>> = {
  debian: { 'clang-cl': 'clang-tools-19', 'lld-link': 'lld-19', 'llvm-lib': 'llvm-19', 'llvm-dlltool': 'llvm-19', 'llvm-readobj': 'llvm-19' },
  fedora: { 'clang-cl': 'clang', 'lld-link': 'lld', 'llvm-lib': 'llvm', 'llvm-dlltool': 'llvm', 'llvm-readobj': 'llvm' },
  arch: { 'clang-cl': 'clang', 'lld-link': 'lld', 'llvm-lib': 'llvm', 'llvm-dlltool': 'llvm', 'llvm-readobj': 'llvm' },
  // lld left the llvm formula with LLVM 19; hvci-build looks in the keg-only prefixes itself.
  homebrew: { 'clang-cl': 'llvm', 'lld-link': 'lld', 'llvm-lib': 'llvm', 'llvm-dlltool': 'llvm', 'llvm-readobj': 'llvm' },
};

/** The host's package manager: the platform, and on Linux /etc/os-release's ID and ID_LIKE. */
export function detectHost(platform: NodeJS.Platform = process.platform, osRelease = '/etc/os-release'): Host {
  if (platform === 'win32') return 'windows';
  if (platform === 'darwin') return 'homebrew';
  let text = '';
  try {
    text = readFileSync(osRelease, 'utf8');
  } catch {
    return 'other';
  }
  const field = (key: string): string[] => (new RegExp(`^${key}=["']?([^"'\\n]*)`, 'm').exec(text)?.[1] ?? '').toLowerCase().split(/\s+/);
  const ids = [...field('ID'), ...field('ID_LIKE')];
  if (ids.some((id) => id === 'debian' || id === 'ubuntu')) return 'debian';
  if (ids.some((id) => id === 'fedora' || id === 'rhel' || id === 'centos')) return 'fedora';
  if (ids.some((id) => id === 'arch' || id === 'archlinux')) return 'arch';
  return 'other';
}

/** The one command that installs the given missing tools on a host, naming only their packages. */
export function installCommand(tools: readonly ToolName[], host: Host): string {
  if (host === 'windows') return 'winget install LLVM.LLVM (or choco install llvm, or the LLVM installer), which installs to C:\\Program Files\\LLVM\\bin';
  if (host === 'other') return 'LLVM 19 or later (clang-cl, lld-link, llvm-lib, llvm-dlltool) from your distribution or the LLVM releases';
  const packages = [...new Set(tools.map((t) => PACKAGES[host][t]))].join(' ');
  if (host === 'debian') return `sudo apt-get install -y ${packages}`;
  if (host === 'fedora') return `sudo dnf install -y ${packages}`;
  if (host === 'arch') return `sudo pacman -S --needed ${packages}`;
  return `brew install ${packages}`;
}

/** The one line for a tool that is nowhere: where hvci-build looked and what to install on this host. */
export function missingToolMessage(tool: ToolName, host: Host = detectHost()): string {
  const looked = tool === 'clang-cl' ? `${tool}, ${tool}-N, clang and clang-N` : `${tool} and ${tool}-N`;
  return `${tool} not found (looked for ${looked} on PATH and in the usual LLVM install directories); ` +
    `install: ${installCommand([tool], host)}; or set toolchain.${camel(tool)} in the config or ${toolEnvVar(tool)}`;
}

function camel(tool: ToolName): string {
  return tool.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
}
