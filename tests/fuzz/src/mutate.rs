//! A seeded mutation engine for JSON-ish inputs (the stable runner's replacement for
//! libFuzzer's mutators; it has no coverage feedback).
//!
//! Byte-level mutations (bit flips, byte sets, inserts, deletes, duplicated ranges,
//! splices with another corpus file, truncation) find problems in the syntax pass;
//! JSON-aware ones keep the input mostly well-formed so that the typed pass runs on odd
//! values: numbers replaced by NaN/±Infinity (Python literals the syntax pass accepts,
//! TRACK_FORMAT.md §4.2), numeric and non-numeric strings, `null`, booleans, huge and
//! tiny values; strings replaced by registry names, curve names and expressions, bad
//! escapes and long text; keys deleted, duplicated, or swapped with one of their aliases
//! (§1.1, §3, §4); values wrapped in arrays/objects and deep nesting.

/// xorshift64* — small, fast, and reproducible from the runner's `--seed`.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; 0 is remapped).
    pub fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so nearby seeds give unrelated streams.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(if z == 0 { 1 } else { z })
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n` ≥ 1).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A random element of `xs` (non-empty).
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Replacement values for a number or any scalar.
const VALUES: &[&str] = &[
    "NaN",
    "Infinity",
    "-Infinity",
    "null",
    "true",
    "false",
    "0",
    "-0",
    "-1",
    "1",
    "0.5",
    "1e308",
    "-1e308",
    "1e309",
    "5e-324",
    "1e-320",
    "4294967296",
    "18446744073709551616",
    "9007199254740993",
    "-2147483649",
    "65536",
    "192000",
    "192001",
    "7999",
    "22050",
    "24000.0001",
    "1e6",
    "3600",
    "86400",
    "1e12",
    "\"4.0\"",
    "\" 12 \"",
    "\"1_000\"",
    "\"nan\"",
    "\"inf\"",
    "\"-infinity\"",
    "\"1e400\"",
    "\"abc\"",
    "\"\"",
    "\"true\"",
    "\"off\"",
    "[]",
    "{}",
    "[1, 2]",
    "[[0, 0], [1, 1]]",
    "{\"a\": 1}",
    "0.000000000000000000000000000001",
    "123456789012345678901234567890",
];

/// Replacement string contents (without quotes).
const STRINGS: &[&str] = &[
    "binaural_beat",
    "binaural_beat_transition",
    "isochronic_tone",
    "isochronic_tone_transition",
    "monaural_beat_stereo_amps",
    "monaural_beat_stereo_amps_transition",
    "qam_beat",
    "hybrid_qam_monaural_beat",
    "rhythmic_waveshaping_transition",
    "stereo_am_independent",
    "wave_shape_stereo_am",
    "spatial_angle_modulation",
    "spatial_angle_modulation_monaural_beat_transition",
    "generate_swept_notch_pink_sound",
    "subliminal_encode",
    "dual_pulse_binaural",
    "noise_generator",
    "noise_swept_notch",
    "no_such_voice",
    "_transition",
    "equal_power",
    "linear",
    "logarithmic",
    "exponential",
    "sine",
    "smoothstep",
    "sin_quarter",
    "pow:0",
    "pow:-1",
    "pow:1e309",
    "pow:nan",
    "pow:0.0001",
    "pow:1000",
    "alpha**0",
    "alpha ** 1e300",
    "np.sin(alpha * np.pi / 2)",
    "adsr",
    "linen",
    "linear_fade",
    "triangle",
    "square",
    "circle",
    "oscillating_arc",
    "pink",
    "brown",
    "deep brown",
    "white",
    "noise",
    "binaural",
    "4.0",
    "-4",
    "nan",
    "inf",
    "yes",
    "\\u0000",
    "\\ud800",
    "\\udc00\\ud800",
    "\\uD83D\\uDE00",
    "\\\\",
    "\\x",
    "\\u12",
    "http://example.invalid/a.noise",
    "../../../../etc/passwd",
    "noise/pink_plain.noise",
    "a.noise",
    "clip.wav",
    "é€😀",
];

/// Keys worth inserting or swapping to (aliases of §1.1–§4, transition timing §7.2,
/// common voice parameters).
const KEYS: &[&str] = &[
    "global",
    "global_settings",
    "globalSettings",
    "progression",
    "steps",
    "background_noise",
    "noise",
    "overlay_clips",
    "clips",
    "sample_rate",
    "sampleRate",
    "crossfade_duration",
    "crossfadeDuration",
    "crossfade_curve",
    "crossfadeCurve",
    "output_filename",
    "duration",
    "Duration",
    "durationSeconds",
    "stepDuration",
    "start",
    "start_time",
    "voices",
    "synth_function_name",
    "synthFunctionName",
    "synth_function",
    "params",
    "parameters",
    "is_transition",
    "isTransition",
    "volume_envelope",
    "volumeEnvelope",
    "voice_type",
    "type",
    "initial_offset",
    "transition_duration",
    "post_offset",
    "transition_curve",
    "baseFreq",
    "beatFreq",
    "startBaseFreq",
    "endBaseFreq",
    "startBeatFreq",
    "endBeatFreq",
    "ampL",
    "ampR",
    "amp",
    "amp_lower_L",
    "start_amp_upper_R",
    "freqOscRangeL",
    "freqOscFreqL",
    "freqOscSkewL",
    "freqOscShape",
    "ampOscDepthL",
    "ampOscFreqL",
    "phaseOscFreq",
    "phaseOscRange",
    "rampPercent",
    "gapPercent",
    "harmonicSuppression",
    "leftHigh",
    "pan",
    "flangeEnable",
    "flangeDelayMs",
    "flangeRateHz",
    "spatialEnable",
    "spatialTrajectory",
    "glitchInterval",
    "attack",
    "release",
    "fade_duration",
    "gain",
    "fade_in",
    "fade_out",
    "amp_envelope",
    "file_path",
    "params_path",
    "noise_type",
    "lfo_freq",
    "lfo_waveform",
    "transition",
    "sweeps",
    "start_casc",
    "end_casc",
    "start_q",
    "start_min",
    "start_max",
    "input_audio_path",
    "noise_parameters",
    "exponent",
    "lowcut",
    "highcut",
    "seed",
];

/// Alias pairs that must mean the same thing (the differential test checks the same).
const ALIASES: &[(&str, &str)] = &[
    ("global", "global_settings"),
    ("global", "globalSettings"),
    ("progression", "steps"),
    ("background_noise", "noise"),
    ("overlay_clips", "clips"),
    ("sample_rate", "sampleRate"),
    ("crossfade_duration", "crossfadeDuration"),
    ("crossfade_curve", "crossfadeCurve"),
    ("duration", "Duration"),
    ("duration", "durationSeconds"),
    ("duration", "stepDuration"),
    ("start", "start_time"),
    ("synth_function_name", "synthFunctionName"),
    ("synth_function_name", "synth_function"),
    ("params", "parameters"),
    ("is_transition", "isTransition"),
    ("volume_envelope", "volumeEnvelope"),
    ("file_path", "params_path"),
    ("baseFreq", "startBaseFreq"),
    ("beatFreq", "startBeatFreq"),
];

/// Kinds of token found by [`scan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    /// A number (or Python literal) outside strings.
    Number,
    /// A string value (span includes the quotes).
    Str,
    /// An object key (span includes the quotes; the colon follows).
    Key,
    /// `{` or `[`.
    Open,
}

/// Token spans of `data`, tolerant of broken input (a best-effort lexer: strings are
/// tracked so that brackets and digits inside them are not taken as structure).
fn scan(data: &[u8]) -> Vec<(Tok, usize, usize)> {
    let mut toks = Vec::new();
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < data.len() && data[i] != b'"' {
                    if data[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let end = (i + 1).min(data.len());
                let mut j = end;
                while j < data.len() && data[j].is_ascii_whitespace() {
                    j += 1;
                }
                let kind = if data.get(j) == Some(&b':') {
                    Tok::Key
                } else {
                    Tok::Str
                };
                toks.push((kind, start, end));
                i = end;
            }
            b'{' | b'[' => {
                toks.push((Tok::Open, i, i + 1));
                i += 1;
            }
            b'-' | b'0'..=b'9' | b'N' | b'I' => {
                let start = i;
                i += 1;
                while i < data.len()
                    && matches!(data[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-' | b'a'..=b'z' | b'N' | b'I')
                {
                    i += 1;
                }
                toks.push((Tok::Number, start, i));
            }
            _ => i += 1,
        }
    }
    toks
}

/// End of the JSON value starting at or after `start` in possibly broken input: the
/// syntax pass's own skipper, which stops at the first error.
fn value_end(data: &[u8], start: usize) -> usize {
    entrain_format::syntax::skip_value(data, start)
        .max(start)
        .min(data.len())
}

fn replace(data: &mut Vec<u8>, start: usize, end: usize, with: &[u8]) {
    data.splice(start..end, with.iter().copied());
}

fn random_tok(rng: &mut Rng, toks: &[(Tok, usize, usize)], kind: Tok) -> Option<(usize, usize)> {
    let n = toks.iter().filter(|t| t.0 == kind).count();
    if n == 0 {
        return None;
    }
    let k = rng.below(n);
    toks.iter()
        .filter(|t| t.0 == kind)
        .nth(k)
        .map(|t| (t.1, t.2))
}

/// Applies one to eight mutations to `data`; `corpus` supplies splice material.
/// The result is at most `max_len` bytes.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>], max_len: usize) {
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        mutate_once(rng, data, corpus);
        if data.len() > max_len {
            data.truncate(max_len);
        }
    }
}

fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    // JSON-aware mutations are chosen more often: byte noise mostly dies in the syntax
    // pass, which is small and simple.
    let choice = rng.below(20);
    let len = data.len();
    match choice {
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = *rng.pick(b"\"{}[],:\\-.0123456789eEnNItfu \n\x00\x7f\xc3\xff");
        }
        2 => {
            let i = rng.below(len + 1);
            let b = *rng.pick(b"\"{}[],:\\-.09eE \n\x00\xe2");
            data.insert(i, b);
        }
        3 if len > 0 => {
            let i = rng.below(len);
            let n = 1 + rng.below(16.min(len - i));
            data.drain(i..i + n);
        }
        4 if len > 0 => {
            // Duplicate a range.
            let i = rng.below(len);
            let n = 1 + rng.below(64.min(len - i));
            let chunk: Vec<u8> = data[i..i + n].to_vec();
            let at = rng.below(len + 1);
            replace(data, at, at, &chunk);
        }
        5 if !corpus.is_empty() => {
            // Splice: a slice of another file at a random place (or replacing the tail).
            let other = rng.pick(corpus);
            if !other.is_empty() {
                let a = rng.below(other.len());
                let b = a + rng.below(other.len() - a) + 1;
                let at = rng.below(len + 1);
                if rng.one_in(2) {
                    data.truncate(at);
                    data.extend_from_slice(&other[a..]);
                } else {
                    replace(data, at, at, &other[a..b]);
                }
            }
        }
        6 if len > 0 => {
            let at = rng.below(len);
            data.truncate(at);
        }
        7..=9 => {
            // A number (or any scalar) becomes another value.
            let toks = scan(data);
            let kind = if rng.one_in(3) { Tok::Str } else { Tok::Number };
            if let Some((s, e)) = random_tok(rng, &toks, kind) {
                let v = rng.pick(VALUES);
                replace(data, s, e, v.as_bytes());
            }
        }
        10 => {
            // A number is scaled, negated or perturbed (stays a plain number).
            let toks = scan(data);
            if let Some((s, e)) = random_tok(rng, &toks, Tok::Number) {
                let x = std::str::from_utf8(&data[s..e])
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .unwrap_or(1.0);
                let y = match rng.below(6) {
                    0 => -x,
                    1 => x * 1e6,
                    2 => x / 1e6,
                    3 => x + 1.0,
                    4 => x.floor(),
                    _ => x * (rng.below(2000) as f64 / 1000.0),
                };
                let text = format!("{y:?}");
                replace(data, s, e, text.as_bytes());
            }
        }
        11 => {
            // A string gets new content.
            let toks = scan(data);
            if let Some((s, e)) = random_tok(rng, &toks, Tok::Str) {
                let text = if rng.one_in(8) {
                    format!("\"{}\"", "x".repeat(rng.below(600)))
                } else {
                    format!("\"{}\"", rng.pick(STRINGS))
                };
                replace(data, s, e, text.as_bytes());
            }
        }
        12 => {
            // A key is swapped for an alias or another known key.
            let toks = scan(data);
            if let Some((s, e)) = random_tok(rng, &toks, Tok::Key) {
                let cur = std::str::from_utf8(&data[s + 1..e.saturating_sub(1).max(s + 1)])
                    .unwrap_or("")
                    .to_owned();
                let alias = ALIASES.iter().find_map(|&(a, b)| {
                    if a == cur {
                        Some(b)
                    } else if b == cur {
                        Some(a)
                    } else {
                        None
                    }
                });
                let new = match alias {
                    Some(a) if !rng.one_in(4) => a,
                    _ => rng.pick(KEYS),
                };
                replace(data, s, e, format!("\"{new}\"").as_bytes());
            }
        }
        13 => {
            // Delete a `"key": value` pair with one adjacent comma.
            let toks = scan(data);
            if let Some((s, e)) = random_tok(rng, &toks, Tok::Key) {
                let mut colon = e;
                while colon < data.len() && data[colon] != b':' {
                    colon += 1;
                }
                let mut end = value_end(data, colon + 1);
                let mut start = s;
                let mut j = end;
                while j < data.len() && data[j].is_ascii_whitespace() {
                    j += 1;
                }
                if data.get(j) == Some(&b',') {
                    end = j + 1;
                } else {
                    let mut k = s;
                    while k > 0 && data[k - 1].is_ascii_whitespace() {
                        k -= 1;
                    }
                    if k > 0 && data[k - 1] == b',' {
                        start = k - 1;
                    }
                }
                if start < end && end <= data.len() {
                    data.drain(start..end);
                }
            }
        }
        14 => {
            // Duplicate a `"key": value` pair (Python keeps the last; §1.1).
            let toks = scan(data);
            if let Some((s, e)) = random_tok(rng, &toks, Tok::Key) {
                let mut colon = e;
                while colon < data.len() && data[colon] != b':' {
                    colon += 1;
                }
                let end = value_end(data, colon + 1);
                if end > s {
                    let mut pair = data[s..end].to_vec();
                    pair.extend_from_slice(b", ");
                    replace(data, s, s, &pair);
                }
            }
        }
        15 => {
            // Insert a known key with a value right after an opening brace.
            let toks = scan(data);
            let braces: Vec<usize> = toks
                .iter()
                .filter(|t| t.0 == Tok::Open && data[t.1] == b'{')
                .map(|t| t.1)
                .collect();
            if !braces.is_empty() {
                let at = *rng.pick(&braces) + 1;
                let v = if rng.one_in(3) {
                    format!("\"{}\"", rng.pick(STRINGS))
                } else {
                    (*rng.pick(VALUES)).to_owned()
                };
                let text = format!("\"{}\": {v}, ", rng.pick(KEYS));
                replace(data, at, at, text.as_bytes());
            }
        }
        16 => {
            // Wrap a value in an array or an object.
            let toks = scan(data);
            let kind = *rng.pick(&[Tok::Number, Tok::Str, Tok::Open]);
            if let Some((s, _)) = random_tok(rng, &toks, kind) {
                let end = value_end(data, s);
                if end > s {
                    let (l, r): (&[u8], &[u8]) = if rng.one_in(2) {
                        (b"[", b"]")
                    } else {
                        (b"{\"x\": ", b"}")
                    };
                    replace(data, end, end, r);
                    replace(data, s, s, l);
                }
            }
        }
        17 => {
            // Deep nesting around a value (the syntax pass bounds depth at 64).
            let toks = scan(data);
            if let Some((s, _)) = random_tok(rng, &toks, Tok::Number) {
                let end = value_end(data, s);
                let depth = 30 + rng.below(60);
                replace(data, end, end, "]".repeat(depth).as_bytes());
                replace(data, s, s, "[".repeat(depth).as_bytes());
            }
        }
        18 if !corpus.is_empty() => {
            // Replace a value by a value of another file (structure-aware splice).
            let other = rng.pick(corpus);
            let ot = scan(other);
            let mine = scan(data);
            let kind = *rng.pick(&[Tok::Open, Tok::Number, Tok::Str]);
            if let (Some((os, _)), Some((ms, _))) =
                (random_tok(rng, &ot, kind), random_tok(rng, &mine, kind))
            {
                let oe = value_end(other, os);
                let me = value_end(data, ms);
                if oe > os && me > ms {
                    let chunk = other[os..oe].to_vec();
                    replace(data, ms, me, &chunk);
                }
            }
        }
        _ => {
            // Repeat an array element (steps, voices, sweeps: capacity limits).
            let toks = scan(data);
            let opens: Vec<usize> = toks
                .iter()
                .filter(|t| t.0 == Tok::Open && data[t.1] == b'[')
                .map(|t| t.1)
                .collect();
            if !opens.is_empty() {
                let at = *rng.pick(&opens) + 1;
                let end = value_end(data, at);
                if end > at {
                    let mut el = data[at..end].to_vec();
                    el.push(b',');
                    let many = rng.one_in(4);
                    let copies = 1 + rng.below(if many { 80 } else { 4 });
                    let block: Vec<u8> = el.repeat(copies);
                    replace(data, at, at, &block);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_keys_numbers_strings() {
        let t = scan(br#"{"a": 1.5, "b": "x]", "c": [NaN]}"#);
        let kinds: Vec<Tok> = t.iter().map(|t| t.0).collect();
        assert_eq!(
            kinds,
            [
                Tok::Open,
                Tok::Key,
                Tok::Number,
                Tok::Key,
                Tok::Str,
                Tok::Key,
                Tok::Open,
                Tok::Number
            ]
        );
    }

    #[test]
    fn deterministic_and_bounded() {
        let seed = br#"{"global": {"sample_rate": 44100}, "progression": [{"duration": 1, "voices": []}]}"#;
        let corpus = vec![seed.to_vec()];
        let run = |s| {
            let mut rng = Rng::new(s);
            let mut d = seed.to_vec();
            for _ in 0..200 {
                mutate(&mut rng, &mut d, &corpus, 4096);
                assert!(d.len() <= 4096);
            }
            d
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }
}
