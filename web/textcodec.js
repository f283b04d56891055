// UTF-8 TextEncoder/TextDecoder for scopes that lack them. Chromium's
// AudioWorkletGlobalScope has neither, and the wasm-bindgen glue creates both when it is
// evaluated (strings cross the boundary as UTF-8). Import this module before the glue.
// Installs nothing where the real ones exist.

class Utf8Encoder {
  get encoding() {
    return "utf-8";
  }

  encode(s = "") {
    const out = new Uint8Array(s.length * 3);
    return out.slice(0, this.encodeInto(s, out).written);
  }

  encodeInto(s, dest) {
    let read = 0;
    let written = 0;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      let units = 1;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          units = 2;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate
      const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (written + n > dest.length) break;
      if (n === 1) {
        dest[written++] = c;
      } else if (n === 2) {
        dest[written++] = 0xc0 | (c >> 6);
        dest[written++] = 0x80 | (c & 0x3f);
      } else if (n === 3) {
        dest[written++] = 0xe0 | (c >> 12);
        dest[written++] = 0x80 | ((c >> 6) & 0x3f);
        dest[written++] = 0x80 | (c & 0x3f);
      } else {
        dest[written++] = 0xf0 | (c >> 18);
        dest[written++] = 0x80 | ((c >> 12) & 0x3f);
        dest[written++] = 0x80 | ((c >> 6) & 0x3f);
        dest[written++] = 0x80 | (c & 0x3f);
      }
      read += units;
      i += units - 1;
    }
    return { read, written };
  }
}

class Utf8Decoder {
  constructor(label = "utf-8", options = {}) {
    this.ignoreBOM = !!options.ignoreBOM;
  }

  get encoding() {
    return "utf-8";
  }

  decode(input) {
    if (input === undefined) return "";
    const b = input instanceof Uint8Array ? input : new Uint8Array(input.buffer ?? input);
    let s = "";
    let i = 0;
    if (!this.ignoreBOM && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
    const chunk = [];
    const flush = () => {
      s += String.fromCharCode.apply(null, chunk);
      chunk.length = 0;
    };
    while (i < b.length) {
      const x = b[i];
      let c = 0xfffd;
      let n = 1;
      if (x < 0x80) c = x;
      else if (x >= 0xc2 && x < 0xe0 && i + 1 < b.length) {
        c = ((x & 0x1f) << 6) | (b[i + 1] & 0x3f);
        n = 2;
      } else if (x >= 0xe0 && x < 0xf0 && i + 2 < b.length) {
        c = ((x & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
        n = 3;
      } else if (x >= 0xf0 && x < 0xf5 && i + 3 < b.length) {
        c = ((x & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
        n = 4;
      }
      if (c >= 0x10000) {
        c -= 0x10000;
        chunk.push(0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
      } else {
        chunk.push(c);
      }
      if (chunk.length > 4096) flush();
      i += n;
    }
    flush();
    return s;
  }
}

if (typeof globalThis.TextEncoder === "undefined") globalThis.TextEncoder = Utf8Encoder;
if (typeof globalThis.TextDecoder === "undefined") globalThis.TextDecoder = Utf8Decoder;

export { Utf8Decoder, Utf8Encoder };
