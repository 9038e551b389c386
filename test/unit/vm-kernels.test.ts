import { expect } from 'chai';
import { parseAptSources } from '../../lab/runtime/debian-packages.ts';
import { writeCpio } from '../../lab/runtime/vm/cpio.ts';
import { modinfoDepends, parseLdd } from '../../lab/runtime/vm/initramfs.ts';
import {
  bzImagePayload,
  bzImageRelease,
  chooseImage,
  compareVersions,
  DEBIAN_KERNELS,
  debianKernelNames,
  findPackage,
  imagePackageOf,
  imagePartsOf,
  parseStanza,
  releaseOfPackage,
  versionMatches,
} from '../../lab/runtime/vm/kernels.ts';

const PACKAGES = `Package: linux-headers-amd64
Source: linux-signed-amd64 (6.1.119+1)
Version: 6.1.119-1
Depends: linux-headers-6.1.0-28-amd64 (= 6.1.119-1)

Package: linux-image-6.1.0-28-amd64
Source: linux-signed-amd64 (6.1.119+1)
Version: 6.1.119-1
Installed-Size: 398840
Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
Description: Linux 6.1 for 64-bit PCs (signed)
 The Linux kernel 6.1 and modules for use on PCs with AMD64, Intel 64 or
 VIA Nano processors.
Filename: pool/main/l/linux-signed-amd64/linux-image-6.1.0-28-amd64_6.1.119-1_amd64.deb
Size: 68938180
SHA256: 0d2a34c4f1e3b5a8a1b8c2d6c74c6f1d1c7a7e9b0b8d5b8a1a9f0e6f3f1d2c3b

Package: linux-image-amd64
Source: linux-signed-amd64 (6.1.119+1)
Version: 6.1.119-1
Depends: linux-image-6.1.0-28-amd64 (= 6.1.119-1)
Filename: pool/main/l/linux-signed-amd64/linux-image-amd64_6.1.119-1_amd64.deb

Package: linux-image-amd64-dbg
Version: 6.1.119-1
Depends: linux-image-6.1.0-28-amd64-dbg (= 6.1.119-1)
`;

/** A trixie-backports-like index: 6.16 and 6.17 images with their flavours, and a 7.2 made of parts. */
const BACKPORTS = [
  ['linux-image-6.16.3+deb13-amd64', '6.16.3-1~bpo13+1', 'kmod, initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool', 169626076],
  ['linux-image-6.16.12+deb13-amd64', '6.16.12-1~bpo13+1', 'kmod, initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool', 169667600],
  ['linux-image-6.16.12+deb13-cloud-amd64', '6.16.12-1~bpo13+1', 'kmod', 51193584],
  ['linux-image-6.16.12+deb13-rt-amd64', '6.16.12-1~bpo13+1', 'kmod', 174555072],
  ['linux-image-6.16.12+deb13-amd64-unsigned', '6.16.13-1~bpo13+1', 'kmod', 169000000],
  ['linux-image-6.16.12+deb13-amd64-dbg', '6.16.13-1~bpo13+1', '', 900000000],
  ['linux-image-6.17.13+deb13-amd64', '6.17.13-1~bpo13+1', 'kmod', 169470672],
  [
    'linux-image-7.2.12+deb13-amd64',
    '7.2.12-1~bpo13+1',
    'dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, linux-base-7.2.12+deb13-amd64 (= 7.2.12-1~bpo13+1), linux-binary-7.2.12+deb13-amd64 (= 7.2.12-1~bpo13+1), linux-modules-7.2.12+deb13-amd64 (= 7.2.12-1~bpo13+1)',
    1900,
  ],
  ['linux-base-7.2.12+deb13-amd64', '7.2.12-1~bpo13+1', '', 1090008],
  ['linux-binary-7.2.12+deb13-amd64', '7.2.12-1~bpo13+1', 'linux-base-7.2.12+deb13-amd64 (= 7.2.12-1~bpo13+1)', 13968908],
  ['linux-binary-unsigned-7.2.12+deb13-amd64', '7.2.12-1~bpo13+1', 'linux-base-7.2.12+deb13-amd64 (= 7.2.12-1~bpo13+1)', 13967532],
  ['linux-modules-7.2.12+deb13-amd64', '7.2.12-1~bpo13+1', 'kmod, linux-base-7.2.12+deb13-amd64 (= 7.2.12-1~bpo13+1)', 159105900],
  ['linux-image-amd64', '7.2.12-1~bpo13+1', 'linux-base-amd64 (= 7.2.12-1~bpo13+1), linux-image-7.2.12+deb13-amd64 (= 7.2.12-1~bpo13+1)', 1500],
]
  .map(
    ([name, version, depends, size]) =>
      `Package: ${name}\nVersion: ${version}\n${depends ? `Depends: ${depends}\n` : ''}Filename: pool/main/l/linux/${name}_${version}_amd64.deb\nSize: ${size}\n`,
  )
  .join('\n');

describe('Debian kernels for VMs', () => {
  it('reads a Packages stanza, continuation lines included', () => {
    const stanza = parseStanza(PACKAGES.split('\n\n')[1]!);
    expect(stanza.Package).to.equal('linux-image-6.1.0-28-amd64');
    expect(stanza.Size).to.equal('68938180');
    expect(stanza.Description).to.match(/^Linux 6\.1 for 64-bit PCs \(signed\)\nThe Linux kernel/);
  });

  it('finds the metapackage, not a package whose name it begins', () => {
    const meta = findPackage(PACKAGES, 'linux-image-amd64');
    expect(meta?.Version).to.equal('6.1.119-1');
    expect(meta?.Depends).to.equal('linux-image-6.1.0-28-amd64 (= 6.1.119-1)');
    expect(findPackage(PACKAGES, 'linux-image-6.1.0-28-amd64')?.Filename).to.match(/\.deb$/);
    expect(findPackage(PACKAGES, 'linux-image-cloud-amd64')).to.equal(undefined);
  });

  it('picks the real image the metapackage depends on, and its release (uname -r)', () => {
    expect(imagePackageOf({ Depends: 'linux-image-6.1.0-28-amd64 (= 6.1.119-1)' })).to.equal('linux-image-6.1.0-28-amd64');
    expect(imagePackageOf({ Depends: 'linux-image-6.12.41+deb13-amd64 (= 6.12.41-1)' })).to.equal('linux-image-6.12.41+deb13-amd64');
    expect(imagePackageOf({ Depends: 'linux-image-5.10.0-33-amd64-unsigned (= 5.10.226-1) | linux-image-5.10.0-33-amd64-dbg' })).to.equal(undefined);
    expect(releaseOfPackage('linux-image-6.12.41+deb13-amd64')).to.equal('6.12.41+deb13-amd64');
  });

  it('names the kernels oldest first, latest last, each with suites', () => {
    expect(debianKernelNames()).to.deep.equal(['5.10', '6.1', '6.12', '6.16', '7.2', '7.3-rc', 'latest']);
    expect(DEBIAN_KERNELS['6.1'])
      .to.deep.include({ suites: ['bookworm'] })
      .and.not.have.property('version');
    expect(DEBIAN_KERNELS['7.3-rc']).to.deep.include({ suites: ['experimental'], version: '7.3' });
  });

  it('matches a version pin on the upstream version only', () => {
    expect(versionMatches('7.3~rc7-1~exp1', '7.3')).to.equal(true);
    expect(versionMatches('7.3-1~exp1', '7.3')).to.equal(true);
    expect(versionMatches('6.16.12-1~bpo13+1', '6.16')).to.equal(true);
    expect(versionMatches('6.17.13-1~bpo13+1', '6.16')).to.equal(false);
    expect(versionMatches('6.1.192-3', '6.16')).to.equal(false);
    expect(versionMatches('6.16.12-1', '6.1')).to.equal(false);
    expect(versionMatches('7.30.1-1', '7.3')).to.equal(false);
  });

  it('chooses the newest plain image of the pinned version, not cloud, rt, unsigned or dbg', () => {
    expect(chooseImage(BACKPORTS, '6.16')?.Package).to.equal('linux-image-6.16.12+deb13-amd64');
    expect(chooseImage(BACKPORTS, '6.17')?.Package).to.equal('linux-image-6.17.13+deb13-amd64');
    expect(chooseImage(BACKPORTS, '7.2')?.Package).to.equal('linux-image-7.2.12+deb13-amd64');
    expect(chooseImage(BACKPORTS, '6.18')).to.equal(undefined);
  });

  it('without a pin, chooses what linux-image-amd64 points at, as stable suites need', () => {
    expect(chooseImage(BACKPORTS)?.Package).to.equal('linux-image-7.2.12+deb13-amd64');
    expect(chooseImage(PACKAGES)?.Package).to.equal('linux-image-6.1.0-28-amd64');
    // bookworm-security also carries the 6.12 series: its highest version is not bookworm's kernel.
    const security = `${PACKAGES}\nPackage: linux-image-6.12.117+deb12-amd64\nVersion: 6.12.117-1~deb12u1\nDepends: kmod\n`;
    expect(chooseImage(security)?.Package).to.equal('linux-image-6.1.0-28-amd64');
  });

  it('follows a series metapackage to the image of the same version', () => {
    const index =
      'Package: linux-image-6.12-amd64\nVersion: 6.12.117-1~deb12u1\nDepends: linux-image-6.12.117+deb12-amd64 (= 6.12.117-1~deb12u1)\n\nPackage: linux-image-6.12.117+deb12-amd64\nVersion: 6.12.117-1~deb12u1\nDepends: kmod\n';
    expect(chooseImage(index, '6.12')?.Package).to.equal('linux-image-6.12.117+deb12-amd64');
  });

  it('lists the parts of a 6.19-on image metapackage, and none for an image that carries its kernel', () => {
    expect(imagePartsOf(chooseImage(BACKPORTS, '7.2')!)).to.deep.equal([
      'linux-base-7.2.12+deb13-amd64',
      'linux-binary-7.2.12+deb13-amd64',
      'linux-modules-7.2.12+deb13-amd64',
    ]);
    expect(imagePartsOf(chooseImage(BACKPORTS, '6.16')!)).to.deep.equal([]);
    expect(imagePartsOf(findPackage(BACKPORTS, 'linux-image-amd64')!)).to.deep.equal([]);
    expect(releaseOfPackage('linux-image-7.3-amd64')).to.equal('7.3-amd64');
  });

  it('orders kernel versions numerically', () => {
    expect(compareVersions('6.1.119-1', '6.1.123-1')).to.be.lessThan(0);
    expect(compareVersions('6.1.0-31', '6.1.0-28')).to.be.greaterThan(0);
    expect(compareVersions('5.10.226-1', '5.10.226-1')).to.equal(0);
    expect(compareVersions('6.12.41-1~bpo12+1', '6.12.41-1')).to.be.lessThan(0);
    expect(compareVersions('7.3~rc7-1~exp1', '7.2.13-1')).to.be.greaterThan(0);
    expect(compareVersions('7.3~rc7-1~exp1', '7.3-1')).to.be.lessThan(0);
  });

  it('reads the release and the compressed payload from a bzImage header', () => {
    const image = Buffer.alloc(0x1000);
    image.write('HdrS', 0x202, 'latin1');
    image[0x1f1] = 1; // one setup sector: the payload is relative to byte 1024
    image.writeUInt16LE(0x100, 0x20e);
    image.write('6.1.0-28-amd64 (debian-kernel@lists.debian.org) #1 SMP\0', 0x300, 'latin1');
    image.writeUInt32LE(0x10, 0x248);
    image.writeUInt32LE(10, 0x24c);
    Buffer.from('28b52ffd0102', 'hex').copy(image, 1024 + 0x10);
    expect(bzImageRelease(image)).to.equal('6.1.0-28-amd64');
    const payload = bzImagePayload(image);
    expect(payload?.format).to.equal('zstd');
    expect(payload?.data.length).to.equal(6); // the 4 size bytes the build appends are cut off
    expect(bzImageRelease(Buffer.alloc(0x1000))).to.equal(undefined);
  });

  it('reads the archives from deb822 and one-line apt sources', () => {
    const deb822 =
      'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n';
    expect(parseAptSources(deb822)).to.deep.equal({ main: 'http://deb.debian.org/debian', security: 'http://deb.debian.org/debian-security' });
    expect(parseAptSources('deb [arch=amd64] http://mirror.example/debian/ bullseye main\n')).to.deep.equal({ main: 'http://mirror.example/debian' });
    expect(parseAptSources('# nothing\n')).to.deep.equal({});
  });
});

describe('VM initramfs parts', () => {
  it('lists the libraries and the interpreter ldd names, not the vDSO', () => {
    const ldd =
      '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibmnl.so.0 => /lib/x86_64-linux-gnu/libmnl.so.0 (0x00007f90)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f90bf4ce000)\n';
    expect(parseLdd(ldd)).to.deep.equal(['/lib/x86_64-linux-gnu/libmnl.so.0', '/lib64/ld-linux-x86-64.so.2']);
  });

  it("reads a module's dependencies from its .modinfo", () => {
    const module = Buffer.from('\x7fELF...\0license=GPL\0depends=llc,stp\0retpoline=Y\0name=bridge\0', 'latin1');
    expect(modinfoDepends(module)).to.deep.equal(['llc', 'stp']);
    expect(modinfoDepends(Buffer.from('\0depends=\0name=veth\0'))).to.deep.equal([]);
  });

  it('writes newc cpio: parents first, 4-byte alignment, a trailer', () => {
    const archive = writeCpio([
      { path: '/usr/local/bin/labagent', type: 'file', data: Buffer.from('abcde'), mode: 0o755 },
      { path: 'bin/sh', type: 'symlink', target: 'busybox' },
      { path: 'dev/console', type: 'chardev', major: 5, minor: 1 },
    ]);
    const entries: { name: string; mode: number; size: number; rdev: number[] }[] = [];
    let at = 0;
    for (;;) {
      expect(archive.toString('latin1', at, at + 6)).to.equal('070701');
      const field = (i: number) => parseInt(archive.toString('latin1', at + 6 + i * 8, at + 14 + i * 8), 16);
      const nameSize = field(11);
      const name = archive.toString('latin1', at + 110, at + 110 + nameSize - 1);
      const dataAt = Math.ceil((at + 110 + nameSize) / 4) * 4;
      entries.push({ name, mode: field(1), size: field(6), rdev: [field(9), field(10)] });
      at = Math.ceil((dataAt + field(6)) / 4) * 4;
      if (name === 'TRAILER!!!') break;
    }
    expect(at).to.equal(archive.length);
    expect(entries.map((e) => e.name)).to.deep.equal([
      'usr',
      'usr/local',
      'usr/local/bin',
      'usr/local/bin/labagent',
      'bin',
      'bin/sh',
      'dev',
      'dev/console',
      'TRAILER!!!',
    ]);
    expect(entries[3]).to.deep.include({ mode: 0o100755, size: 5 });
    expect(entries[5]).to.deep.include({ mode: 0o120777, size: 'busybox'.length });
    expect(entries[7]).to.deep.include({ mode: 0o020600, rdev: [5, 1] });
  });
});
