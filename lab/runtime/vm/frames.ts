/**
 * The frames the host and the VM's agent (images/agent/labagent.c) exchange over one serial line:
 * u32 channel (little-endian), u8 type, u32 payload length, payload.
 * host -> agent: S start (argv, NUL-separated), K kill (ASCII signal number).
 * agent -> host: R ready (channel 0, uname -r), P started (ASCII pid), O stdout, E stderr,
 * X exit (ASCII code, 128 + signal), F could not start (message).
 */

export const FRAME_HEADER = 9;
/** The agent refuses longer frames; no frame the host sends comes near. */
export const MAX_FRAME = 1 << 20;

export interface Frame {
  channel: number;
  type: string;
  payload: Buffer;
}

export function encodeFrame(channel: number, type: string, payload: Buffer): Buffer {
  const frame = Buffer.alloc(FRAME_HEADER + payload.length);
  frame.writeUInt32LE(channel, 0);
  frame.writeUInt8(type.charCodeAt(0), 4);
  frame.writeUInt32LE(payload.length, 5);
  payload.copy(frame, FRAME_HEADER);
  return frame;
}

export function encodeStart(channel: number, argv: string[]): Buffer {
  return encodeFrame(channel, 'S', Buffer.from(argv.map((a) => `${a}\0`).join('')));
}

/** Cuts a byte stream into frames, whatever the chunks it arrives in. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    let at = 0;
    while (this.pending.length - at >= FRAME_HEADER) {
      const length = this.pending.readUInt32LE(at + 5);
      if (length > MAX_FRAME) throw new Error(`a frame of ${length} bytes: the stream is out of step`);
      if (this.pending.length - at < FRAME_HEADER + length) break;
      frames.push({
        channel: this.pending.readUInt32LE(at),
        type: String.fromCharCode(this.pending[at + 4]!),
        payload: Buffer.from(this.pending.subarray(at + FRAME_HEADER, at + FRAME_HEADER + length)),
      });
      at += FRAME_HEADER + length;
    }
    this.pending = this.pending.subarray(at);
    return frames;
  }
}
