import { readFileSync, statSync, type Stats } from 'node:fs';
import { userInfo } from 'node:os';

/**
 * A config is code, or names the programs hvci-build runs (`toolchain`): one that another
 * user can write must never be used. The rule, kept simple to explain: a config file, and
 * each directory the search passes through to reach it, must belong to the current user or
 * to root and be writable by neither its group nor others. (A sticky, world-writable /tmp
 * fails it: anyone could have put a hvci.config.mjs there.) A group that is the owner's
 * private group counts as the owner: Debian and Ubuntu give each user a group of their own
 * name with no other members and a umask of 002, so every file a user makes (a git clone, an
 * editor's save) is group-writable by that user alone.
 *
 * On Windows, where access is decided by ACLs rather than owner and mode bits, nothing is
 * checked: the search is bounded by the project root and the home directory only.
 */
const POSIX = process.platform !== 'win32' && typeof process.getuid === 'function';

/**
 * Why `path` must not be trusted ("is writable by anyone"), or undefined when it may be (or
 * cannot be examined: then reading it will say what is wrong).
 */
export function distrust(path: string): string | undefined {
  if (!POSIX) return undefined;
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return undefined;
  }
  const uid = process.getuid!();
  if (st.uid !== uid && st.uid !== 0) return `belongs to uid ${st.uid}, neither you (uid ${uid}) nor root`;
  if (st.mode & 0o002) return 'is writable by anyone';
  if (st.mode & 0o020 && !privateGroup(st)) return 'is writable by its group';
  return undefined;
}

/** Whether the file's group is its owner's private group: named as the owner, no other members, per /etc/group. */
function privateGroup(st: Stats): boolean {
  let owner: string;
  let groups: string;
  try {
    owner = st.uid === process.getuid!() ? userInfo().username : st.uid === 0 ? 'root' : '';
    groups = readFileSync('/etc/group', 'utf8');
  } catch {
    return false; // unknown: not trusted
  }
  if (!owner) return false;
  for (const line of groups.split('\n')) {
    const [name, , gid, members] = line.split(':');
    if (Number(gid) === st.gid && gid !== undefined && gid !== '') return name === owner && (members ?? '').trim() === '';
  }
  return false; // a group /etc/group does not list (LDAP, say): not known to be private
}
