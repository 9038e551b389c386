/** Writes a newc ("070701") cpio archive, the format the kernel unpacks an initramfs from. */

export type CpioEntry =
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'file'; data: Buffer; mode?: number }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'chardev'; major: number; minor: number; mode?: number };

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000, chardev: 0o020000 } as const;

function header(fields: number[], name: string): Buffer {
  const hex = fields.map((f) => f.toString(16).padStart(8, '0')).join('');
  const head = Buffer.from(`070701${hex}${name}\0`, 'latin1');
  return Buffer.concat([head, Buffer.alloc(pad4(head.length))]);
}

function pad4(length: number): number {
  return (4 - (length % 4)) % 4;
}

/** Parent directories are added where the entries lack them; paths are relative to the archive's root. */
export function writeCpio(entries: CpioEntry[]): Buffer {
  const all: CpioEntry[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, '');
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!seen.has(dir)) {
        seen.add(dir);
        all.push({ path: dir, type: 'dir' });
      }
    }
    if (seen.has(path)) continue;
    seen.add(path);
    all.push({ ...entry, path });
  }
  const chunks: Buffer[] = [];
  let ino = 1;
  for (const entry of all) {
    const data = entry.type === 'file' ? entry.data : entry.type === 'symlink' ? Buffer.from(entry.target) : Buffer.alloc(0);
    const mode = TYPE_BITS[entry.type] | (entry.type === 'symlink' ? 0o777 : (entry.mode ?? { file: 0o644, dir: 0o755, chardev: 0o600 }[entry.type]));
    const rdev = entry.type === 'chardev' ? [entry.major, entry.minor] : [0, 0];
    // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
    const fields = [ino++, mode, 0, 0, entry.type === 'dir' ? 2 : 1, 0, data.length, 0, 0, rdev[0]!, rdev[1]!, Buffer.byteLength(entry.path) + 1, 0];
    chunks.push(header(fields, entry.path), data, Buffer.alloc(pad4(data.length)));
  }
  chunks.push(header([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 'TRAILER!!!'.length + 1, 0], 'TRAILER!!!'));
  return Buffer.concat(chunks);
}
