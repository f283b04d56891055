//! What the page shows about a track (timeline, noise, warnings), as JSON text that the
//! bindings hand to `JSON.parse`.

use entrain_engine::timeline::Timeline;
use entrain_format::voices::Resolved;
use entrain_host::LoadedTrack;
use serde_json::{json, Value};

/// The placed steps, voices, background noise and warnings of `loaded` rendered at `rate`.
///
/// ```json
/// { "sample_rate": 44100, "total_frames": 3924900, "duration_s": 89.0,
///   "output_filename": "demo.wav", "crossfade_s": 3.0,
///   "steps": [ { "index": 0, "start_frame": 0, "end_frame": 1323000,
///                "crossfade_frames": 0, "duration_s": 30.0, "description": "…",
///                "voices": ["binaural_beat_transition", "binaural_beat"] } ],
///   "noise": { "preset": "noise/pink_plain.noise" } | null,
///   "clips": false, "warnings": ["…"] }
/// ```
///
/// Steps that are never placed (duration ≤ 0) are listed with `start_frame: null`.
pub fn summary(loaded: &LoadedTrack, rate: u32) -> Result<Value, String> {
    // The same steps at `rate` (a view: the track itself, ~400 KB, is not copied).
    let mut view = loaded.track.view();
    view.sample_rate = rate;
    let tl = Timeline::new(&view).map_err(|e| format!("cannot place the steps: {e:?}"))?;
    let mut steps = Vec::new();
    let mut vi = 0usize;
    for (i, s) in view.steps.iter().enumerate() {
        let voices: Vec<String> = (0..view.step_voices(i).len())
            .map(|_| {
                let name = match loaded.info.voice_functions.get(vi) {
                    Some(Resolved::Known {
                        func, transition, ..
                    }) => format!(
                        "{}{}",
                        entrain_format::track::function_name(*func),
                        if *transition { "_transition" } else { "" }
                    ),
                    _ => "(unknown: silent)".to_owned(),
                };
                vi += 1;
                name
            })
            .collect();
        let placed = tl.placements.iter().find(|p| p.step as usize == i);
        steps.push(json!({
            "index": i,
            "start_frame": placed.map(|p| p.start),
            "end_frame": placed.map(|p| p.end()),
            "crossfade_frames": placed.map(|p| p.xfade).unwrap_or(0),
            "duration_s": s.duration,
            "description": loaded.info.descriptions.get(i).map(|d| d.as_str()).unwrap_or(""),
            "voices": voices,
        }));
    }
    let mut warnings: Vec<String> = loaded
        .warnings
        .warnings
        .iter()
        .map(|w| w.to_string())
        .collect();
    if loaded.warnings.more_warnings > 0 {
        warnings.push(format!(
            "… and {} more warnings",
            loaded.warnings.more_warnings
        ));
    }
    if loaded.info.clips.is_some() {
        warnings.push("overlay clips are not rendered by this version".to_owned());
    }
    let noise = loaded
        .info
        .background
        .as_ref()
        .map(|_| json!({ "preset": entrain_host::noise::preset_name(&loaded.info) }));
    Ok(json!({
        "sample_rate": rate,
        "total_frames": tl.total,
        "duration_s": tl.total as f64 / rate as f64,
        "output_filename": loaded.info.output_filename.as_ref().map(|s| s.as_str()),
        "crossfade_s": view.crossfade_duration,
        "steps": steps,
        "noise": noise,
        "clips": loaded.info.clips.is_some(),
        "warnings": warnings,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_summary() {
        let t = crate::player::load(entrain_host::DEMO_TRACK, None).unwrap();
        let s = summary(&t, 44_100).unwrap();
        assert_eq!(s["total_frames"], 3_924_900);
        assert_eq!(s["duration_s"], 89.0);
        let steps = s["steps"].as_array().unwrap();
        assert!(steps.len() >= 2);
        assert_eq!(steps[0]["start_frame"], 0);
        assert_eq!(steps[0]["voices"][0], "binaural_beat_transition");
        assert!(steps[1]["crossfade_frames"].as_u64().unwrap() > 0);
        assert_eq!(s["noise"], Value::Null);
        let half = summary(&t, 22_050).unwrap();
        assert_eq!(half["total_frames"], 3_924_900 / 2);
    }
}
