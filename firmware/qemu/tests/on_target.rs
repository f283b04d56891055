//! On-target tests under QEMU (defmt-test): the firmware's output equals the host's bit
//! for bit, the FPU starts in IEEE mode, and a track larger than the firmware's
//! capacities is a parse error, not a panic.
//!
//! The expected fingerprints are not written here: `firmware/run-tests.sh` runs the host
//! CLI's `hash` command on every shared track (and the bundled demo) and hands the file
//! it writes to the build through `ENTRAIN_FW_EXPECTED` (see build.rs).
#![no_std]
#![no_main]

use entrain_fw_qemu as _;

/// One host-rendered reference: the first `frames` frames of a track, rendered in
/// streaming mode with `block`-frame buffers on the host.
pub struct Case {
    /// File name.
    pub name: &'static str,
    /// The track, embedded at build time from its original location.
    pub json: &'static [u8],
    /// The `.noise` preset the track's `background_noise` names, if any.
    pub noise: Option<&'static [u8]>,
    /// Host render block size, frames; the firmware uses it as its DMA half size.
    pub block: usize,
    /// Frames hashed.
    pub frames: u64,
    /// The host's fingerprint, or why the host could not render the track.
    pub expected: Result<u64, &'static str>,
}

mod expected {
    use super::Case;
    include!(concat!(env!("OUT_DIR"), "/expected.rs"));
}

#[defmt_test::tests]
mod tests {
    use super::expected::{CASES, GENERATED, SECONDS};
    use core::fmt::Write;
    use entrain_format::ErrorKind;
    use entrain_fw_common::TRACK_VOICES;
    use entrain_fw_qemu::{fpu, load, render_hash, storage, Storage, Unfit};

    #[init]
    fn init() -> &'static mut Storage {
        storage()
    }

    /// FPSCR right after reset: no flush-to-zero, no default NaN, round to nearest.
    /// (Runs first: the other tests must not have changed it either, and nothing does.)
    #[test]
    fn fpscr_is_ieee_at_startup() {
        let f = fpu::fpscr();
        defmt::println!("FPSCR = {=u32:#010x}", f);
        defmt::assert_eq!(f & fpu::FPSCR_FZ, 0, "flush-to-zero is on");
        defmt::assert_eq!(f & fpu::FPSCR_DN, 0, "default-NaN is on");
        defmt::assert!(fpu::is_ieee(f));
    }

    /// Denormals survive arithmetic (FZ off in practice, not only in the register).
    #[test]
    fn denormals_are_not_flushed() {
        let tiny = core::hint::black_box(f32::MIN_POSITIVE);
        let d = tiny / core::hint::black_box(4.0f32);
        defmt::assert!(d > 0.0, "a denormal quotient was flushed to zero");
        defmt::assert_eq!(d.to_bits(), 0x0020_0000);
    }

    /// A track with one voice more than the firmware holds is rejected by the parser
    /// with a capacity error (no panic, no truncation).
    #[test]
    fn capacity_overflow_is_a_parse_error(s: &mut &'static mut Storage) {
        // Built at run time in a fixed buffer: TRACK_VOICES + 1 binaural voices.
        static mut JSON: [u8; 8192] = [0; 8192];
        // SAFETY: this test is the only user of JSON, and tests run one at a time.
        let buf: &mut [u8; 8192] = unsafe { &mut *core::ptr::addr_of_mut!(JSON) };
        let mut w = Cursor {
            buf,
            len: 0,
            overflow: false,
        };
        let _ = write!(
            w,
            r#"{{"global":{{"sample_rate":48000}},"progression":[{{"duration":5,"voices":["#
        );
        for i in 0..TRACK_VOICES + 1 {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(
                w,
                r#"{sep}{{"synth_function_name":"binaural_beat","params":{{"baseFreq":{},"beatFreq":4}}}}"#,
                100 + i
            );
        }
        let _ = write!(w, "]}}]}}");
        defmt::assert!(!w.overflow, "test JSON buffer too small");
        let len = w.len;
        match load(s, &w.buf[..len], None) {
            Err(Unfit::Capacity { what, limit }) => {
                defmt::println!("rejected: too many {=str} (limit {=usize})", what, limit);
                defmt::assert_eq!(limit, TRACK_VOICES);
            }
            other => defmt::panic!("expected a capacity error, got {}", other),
        }
        // And the parser's own error kind says so.
        let r = entrain_format::parse(&w.buf[..len], &mut s.track, &mut s.info);
        let report = defmt::unwrap!(r.err(), "parse accepted an oversized track");
        defmt::assert!(report
            .errors
            .iter()
            .any(|e| matches!(e.kind, ErrorKind::TooMany { .. })));
    }

    /// The firmware's fingerprint of the first seconds of every shared track (and the
    /// demo) equals the host's, at each DMA block size. Tracks larger than the firmware's
    /// capacities are skipped with the reason.
    #[test]
    fn host_hashes_match(s: &mut &'static mut Storage) {
        defmt::assert!(
            GENERATED,
            "no expected hashes: run firmware/run-tests.sh (it generates them with the host CLI)"
        );
        let (mut pass, mut fail, mut skip) = (0u32, 0u32, 0u32);
        for c in CASES {
            let expected = match c.expected {
                Ok(h) => h,
                Err(why) => {
                    defmt::println!(
                        "SKIP {=str} block {=usize}: host: {=str}",
                        c.name,
                        c.block,
                        why
                    );
                    skip += 1;
                    continue;
                }
            };
            let got = load(s, c.json, c.noise)
                .and_then(|()| render_hash(s, c.block, c.frames, u64::MAX, &mut |_, _| {}));
            match got {
                Ok(h) if h == expected => {
                    defmt::println!(
                        "PASS {=str} block {=usize}: {=u64:016x} ({=u64} frames, {=f64} s)",
                        c.name,
                        c.block,
                        h,
                        c.frames,
                        SECONDS
                    );
                    pass += 1;
                }
                Ok(h) => {
                    defmt::println!(
                        "FAIL {=str} block {=usize}: firmware {=u64:016x}, host {=u64:016x}",
                        c.name,
                        c.block,
                        h,
                        expected
                    );
                    fail += 1;
                }
                Err(
                    e @ (Unfit::Capacity { .. }
                    | Unfit::Build(_)
                    | Unfit::NoisePresetMissing
                    | Unfit::NeedsAudioFiles),
                ) => {
                    defmt::println!("SKIP {=str} block {=usize}: {}", c.name, c.block, e);
                    skip += 1;
                }
                Err(e) => {
                    defmt::println!("FAIL {=str} block {=usize}: {}", c.name, c.block, e);
                    fail += 1;
                }
            }
        }
        defmt::println!(
            "hashes: {=u32} passed, {=u32} failed, {=u32} skipped",
            pass,
            fail,
            skip
        );
        defmt::assert_eq!(fail, 0);
        defmt::assert!(pass > 0);
    }

    /// A `core::fmt::Write` into a fixed buffer that records overflow.
    struct Cursor<'a> {
        buf: &'a mut [u8],
        len: usize,
        overflow: bool,
    }

    impl Write for Cursor<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let b = s.as_bytes();
            match self.buf.get_mut(self.len..self.len + b.len()) {
                Some(dst) => {
                    dst.copy_from_slice(b);
                    self.len += b.len();
                    Ok(())
                }
                None => {
                    self.overflow = true;
                    Err(core::fmt::Error)
                }
            }
        }
    }
}
