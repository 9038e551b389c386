import { expect } from 'chai';
import { encodeFrame, encodeStart, FrameDecoder } from '../../lab/runtime/vm/frames.ts';

describe('VM agent frames', () => {
  it('lays a frame out as u32 channel (LE), u8 type, u32 length (LE), payload', () => {
    const frame = encodeFrame(0x01020304, 'O', Buffer.from('hi'));
    expect(frame.toString('hex')).to.equal('04030201' + '4f' + '02000000' + '6869');
  });

  it('sends argv NUL-separated in a start frame', () => {
    const frame = encodeStart(7, ['ip', 'netns', 'add', 'x']);
    expect(frame.readUInt32LE(0)).to.equal(7);
    expect(String.fromCharCode(frame[4]!)).to.equal('S');
    expect(frame.subarray(9).toString()).to.equal('ip\0netns\0add\0x\0');
    expect(frame.readUInt32LE(5)).to.equal(frame.length - 9);
  });

  it('cuts a stream into frames whatever the chunks, byte by byte included', () => {
    const frames = [
      encodeFrame(0, 'R', Buffer.from('6.1.0-28-amd64')),
      encodeFrame(3, 'O', Buffer.alloc(100_000, 0x61)),
      encodeFrame(3, 'X', Buffer.from('0')),
      encodeFrame(4, 'E', Buffer.alloc(0)),
    ];
    const stream = Buffer.concat(frames);
    for (const size of [1, 7, 4096, stream.length]) {
      const decoder = new FrameDecoder();
      const got = [];
      for (let at = 0; at < stream.length; at += size) got.push(...decoder.push(stream.subarray(at, at + size)));
      expect(got.map((f) => [f.channel, f.type, f.payload.length])).to.deep.equal([
        [0, 'R', 14],
        [3, 'O', 100_000],
        [3, 'X', 1],
        [4, 'E', 0],
      ]);
      expect(got[1]!.payload.every((b) => b === 0x61)).to.equal(true);
    }
  });

  it('refuses a length no agent sends (a stream out of step)', () => {
    const bad = Buffer.from('00000000' + '4f' + 'ffffffff', 'hex');
    expect(() => new FrameDecoder().push(bad)).to.throw(/out of step/);
  });
});
