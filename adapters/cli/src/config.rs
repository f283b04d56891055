//! `config.toml`: the original Rust port's configuration (`output_dir`, `gpu`,
//! `voice_gain`, `noise_gain`, `clip_gain`), read from `--config PATH`, the
//! `ENTRAIN_CONFIG` variable, or `config.toml` in the current directory.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The configuration file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    /// Folder for relative output names taken from tracks (`outputFilename`).
    pub output_dir: PathBuf,
    /// Mix on the GPU when available.
    pub gpu: bool,
    /// Multiplier of the voices.
    pub voice_gain: f32,
    /// Multiplier of the background noise.
    pub noise_gain: f32,
    /// Multiplier of the overlay clips.
    pub clip_gain: f32,
}

impl Default for FileConfig {
    fn default() -> Self {
        Self {
            output_dir: PathBuf::from("output"),
            gpu: false,
            voice_gain: 1.0,
            noise_gain: 1.0,
            clip_gain: 1.0,
        }
    }
}

impl FileConfig {
    /// The default file's text, with comments.
    pub fn default_text() -> String {
        let d = Self::default();
        format!(
            "# realtime_backend configuration\n\
             # Folder for output files named by the track (`outputFilename`) when they are relative.\n\
             output_dir = \"{}\"\n\
             # Mix voice buffers on the GPU when an adapter is available (falls back to the CPU).\n\
             gpu = {}\n\
             # Level multipliers of the three layers of the mix.\n\
             voice_gain = {:.1}\n\
             noise_gain = {:.1}\n\
             clip_gain = {:.1}\n",
            d.output_dir.display(),
            d.gpu,
            d.voice_gain,
            d.noise_gain,
            d.clip_gain
        )
    }

    /// Loads the configuration: an explicit path must exist; otherwise `ENTRAIN_CONFIG`,
    /// then `./config.toml`, then the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<(Self, Option<PathBuf>)> {
        let candidate = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => std::env::var_os("ENTRAIN_CONFIG")
                .map(PathBuf::from)
                .or_else(|| Some(PathBuf::from("config.toml")).filter(|p| p.is_file())),
        };
        let Some(path) = candidate else {
            return Ok((Self::default(), None));
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let cfg: Self = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), one_line(&e.to_string())))?;
        for (name, v) in [
            ("voice_gain", cfg.voice_gain),
            ("noise_gain", cfg.noise_gain),
            ("clip_gain", cfg.clip_gain),
        ] {
            if !v.is_finite() || v < 0.0 {
                bail!(
                    "{}: `{name}` must be a non-negative number, got {v}",
                    path.display()
                );
            }
        }
        Ok((cfg, Some(path)))
    }

    /// Where an output name from a track goes: relative names under `output_dir`.
    pub fn place(&self, name: &Path) -> PathBuf {
        if name.is_absolute() {
            name.to_path_buf()
        } else {
            self.output_dir.join(name)
        }
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_text_round_trips() {
        let c: FileConfig = toml::from_str(&FileConfig::default_text()).unwrap();
        assert_eq!(c, FileConfig::default());
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<FileConfig>("output_dirr = \"x\"").is_err());
    }
}
