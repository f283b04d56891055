// FNV-1a 64 over f32 samples as little-endian IEEE-754 bits, in order (interleaved L R for
// stereo), NaN hashed as +0.0: the same fingerprint as entrain_dsp::hash::Fnv1a64 and
// `realtime_backend hash`. Plain numbers (four 16-bit limbs), no BigInt, no allocation per
// sample, so it can run inside an AudioWorklet's process().

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export class Fnv1a64 {
  constructor() {
    // Offset basis 0xcbf29ce484222325, least significant limb first.
    this.h0 = 0x2325;
    this.h1 = 0x8422;
    this.h2 = 0x9ce4;
    this.h3 = 0xcbf2;
  }

  /** Feeds one byte (0..255). */
  byte(b) {
    const h0 = this.h0 ^ b;
    const { h1, h2, h3 } = this;
    // h * 0x100000001b3 mod 2^64 = h * 0x1b3 + (h << 40).
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + (h0 << 8) + (t1 >>> 16);
    const t3 = h3 * 0x1b3 + (h1 << 8) + (t2 >>> 16);
    this.h0 = t0 & 0xffff;
    this.h1 = t1 & 0xffff;
    this.h2 = t2 & 0xffff;
    this.h3 = t3 & 0xffff;
  }

  /** Feeds one sample's bits, little-endian (NaN as +0.0). */
  f32(x) {
    f32[0] = x;
    const bits = x !== x ? 0 : u32[0];
    this.byte(bits & 0xff);
    this.byte((bits >>> 8) & 0xff);
    this.byte((bits >>> 16) & 0xff);
    this.byte(bits >>> 24);
  }

  /** Feeds samples in order. */
  samples(arr, start = 0, end = arr.length) {
    for (let i = start; i < end; i++) this.f32(arr[i]);
  }

  /** Feeds frames of two channel arrays interleaved (L0 R0 L1 R1 …). */
  stereo(left, right, start = 0, end = left.length) {
    for (let i = start; i < end; i++) {
      this.f32(left[i]);
      this.f32(right[i]);
    }
  }

  /** The hash as 16 lowercase hex digits (as `realtime_backend hash` prints it). */
  hex() {
    return [this.h3, this.h2, this.h1, this.h0].map((x) => x.toString(16).padStart(4, "0")).join("");
  }
}

/** FNV-1a 64 of interleaved samples, 16 hex digits. */
export function hashSamples(arr) {
  const h = new Fnv1a64();
  h.samples(arr);
  return h.hex();
}
