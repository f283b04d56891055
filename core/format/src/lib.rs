//! `entrain-format`: reads the original application's track files into the engine's
//! [`Track`] model (TRACK_FORMAT.md), without allocation.
//!
//! Two passes: [`syntax::validate`] checks the JSON and locates the first syntax error by
//! line and column; then serde-json-core decodes objects and values ([`value`]) and the
//! tables in [`track`] and [`voices`] apply the original's aliases, defaults, coercions
//! and transition naming patterns. Every problem is reported with its step, voice, key,
//! line and column ([`error`]); checking goes on after an error so that a whole file's
//! problems can be listed at once.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod clips;
pub mod error;
pub mod fx;
pub mod noise;
pub mod noise_voice;
pub mod params;
pub mod subliminal;
pub mod syntax;
pub mod track;
pub mod value;
pub mod voices;

pub use error::{ErrorKind, FormatError, Location, Report, Warning, WarningKind};
pub use track::TrackInfo;

use entrain_engine::model::Track;

/// Parses `input` into `track` and `info`. On success the report holds only warnings; on
/// failure it holds every error found (and `track` must not be rendered).
// The report (≈9 KB) is returned by value: core cannot box, and parsing is not a hot path.
#[allow(clippy::result_large_err)]
pub fn parse<const S: usize, const V: usize>(
    input: &[u8],
    track: &mut Track<S, V>,
    info: &mut TrackInfo,
) -> Result<Report, Report> {
    let mut report = Report::default();
    track::parse_into(input, track, info, &mut report);
    // Background noise (TRACK_FORMAT.md §9): inline params complete the track now; a
    // preset file is read by the host, which then fills `track.noise`.
    if let Some(span) = info.noise {
        info.background = noise::parse_background(input, span, &mut report);
        if let Some(b) = info.background.as_ref().filter(|b| b.has_params) {
            track.noise = Some(b.spec);
        }
    }
    if report.has_errors() {
        Err(report)
    } else {
        Ok(report)
    }
}
