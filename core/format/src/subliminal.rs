//! `subliminal_encode` parameters (VOICES.md §11): the source files (as byte ranges of the
//! track text — the host decodes them), the mode, the carrier and the level.

use crate::clips::is_remote;
use crate::error::{short, ErrorKind};
use crate::params::{Kind, Reader};
use crate::value::{for_each_element, parse_value, Value};
use entrain_engine::model::{
    PcmRef, SubliminalMode, SubliminalParams, TextRef, MAX_SUBLIMINAL_SOURCES,
};

/// The carrier range the original clips `carrierFreq` to.
pub const CARRIER_RANGE: (f64, f64) = (15_000.0, 20_000.0);

/// Reads a `subliminal_encode` voice.
pub fn subliminal(r: &mut Reader<'_, '_>) -> SubliminalParams {
    let mut p = SubliminalParams {
        mode: SubliminalMode::Sequence,
        carrier_hz: r
            .num_or("carrierFreq", 17_500.0, Kind::Plain)
            .clamp(CARRIER_RANGE.0, CARRIER_RANGE.1),
        amp: r.num_or("amp", 0.5, Kind::Plain),
        names: [TextRef::default(); MAX_SUBLIMINAL_SOURCES],
        name_count: 0,
        segments: [PcmRef::default(); MAX_SUBLIMINAL_SOURCES],
        segment_count: 0,
        norm: 0.0,
    };
    if let Some(m) = r.text::<16>("mode") {
        if m.trim().eq_ignore_ascii_case("stack") {
            p.mode = SubliminalMode::Stack;
        }
    }
    // `audio_paths` (a list, or one `;`-separated string) takes precedence over `audio_path`.
    let entry = r.entry("audio_paths").or_else(|| r.entry("audio_path"));
    let Some(e) = entry else { return p };
    let input = r.input;
    let mut push = |r: &mut Reader<'_, '_>, raw: &str, quote_at: usize| {
        for part in raw.split(';') {
            if part.trim().is_empty() {
                continue;
            }
            if is_remote(part) {
                let l = r.loc(&e);
                r.report.error(l, ErrorKind::RemoteLocation(short(part)));
                continue;
            }
        }
        if raw.trim().is_empty() {
            return;
        }
        if (p.name_count as usize) >= MAX_SUBLIMINAL_SOURCES {
            let l = r.loc(&e);
            r.report.error(
                l,
                ErrorKind::TooMany {
                    what: "subliminal source files",
                    limit: MAX_SUBLIMINAL_SOURCES,
                },
            );
            return;
        }
        let start = (quote_at + 1) as u32;
        p.names[p.name_count as usize] = TextRef {
            start,
            end: start + raw.len() as u32,
        };
        p.name_count += 1;
    };
    match e.value {
        Value::Str(raw) => push(r, raw, e.offset),
        Value::Array(span) => {
            let mut items: heapless::Vec<(usize, &str), { 2 * MAX_SUBLIMINAL_SOURCES }> =
                heapless::Vec::new();
            let mut bad = false;
            let _ = for_each_element::<()>(input, span, |_, el| {
                match parse_value(input, el) {
                    Ok(Value::Str(raw)) => {
                        if items.push((el.start, raw)).is_err() {
                            bad = true;
                        }
                    }
                    _ => bad = true,
                }
                Ok(())
            });
            if bad && items.len() < 2 * MAX_SUBLIMINAL_SOURCES {
                let l = r.loc(&e);
                r.report.error(
                    l,
                    ErrorKind::WrongType {
                        expected: "a list of file names",
                        found: "another value",
                    },
                );
            }
            for (at, raw) in items {
                push(r, raw, at);
            }
        }
        other => {
            let l = r.loc(&e);
            r.report.error(
                l,
                ErrorKind::WrongType {
                    expected: "a file name or a list of them",
                    found: other.type_name(),
                },
            );
        }
    }
    p
}
