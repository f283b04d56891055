//! `entrain-defmt-print ELF < STREAM`: decodes the defmt frames a firmware writes (over
//! semihosting, under QEMU: firmware/qemu-run.sh) with the format strings of its ELF, one
//! line per frame on stdout: `LEVEL message` for log frames, `message` for `println!`
//! frames, which is what `defmt-print -e ELF --log-format '{L} {s}' stdin` prints.
//!
//! Malformed frames are reported and skipped when the encoding can resynchronise (rzCOBS,
//! defmt's default), and end the run otherwise. The exit status is 0 unless the ELF or the
//! stream cannot be read, so the firmware's own exit status stays the verdict.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use anyhow::{anyhow, Context as _};
use defmt_decoder::{DecodeError, Table};

fn run(elf_path: &str) -> anyhow::Result<()> {
    let elf = std::fs::read(elf_path).with_context(|| format!("reading {elf_path}"))?;
    let table = Table::parse(&elf)
        .with_context(|| format!("reading the defmt table of {elf_path}"))?
        .ok_or_else(|| anyhow!("{elf_path} has no .defmt section (not a defmt firmware?)"))?;
    let mut decoder = table.new_stream_decoder();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut buf = [0u8; 4096];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("reading the defmt stream"),
        };
        decoder.received(&buf[..n]);
        loop {
            match decoder.decode() {
                Ok(frame) => {
                    let message = frame.display_message().to_string();
                    match frame.level() {
                        Some(level) => {
                            writeln!(out, "{} {message}", level.as_str().to_uppercase())?
                        }
                        None => writeln!(out, "{message}")?,
                    }
                }
                Err(DecodeError::UnexpectedEof) => break,
                Err(DecodeError::Malformed) if table.encoding().can_recover() => {
                    writeln!(out, "(HOST) malformed frame skipped")?;
                }
                Err(DecodeError::Malformed) => {
                    return Err(anyhow!("malformed frame in a raw-encoded stream"))
                }
            }
        }
        out.flush()?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [elf] = args.as_slice() else {
        eprintln!("usage: entrain-defmt-print ELF < STREAM");
        return ExitCode::from(2);
    };
    match run(elf) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("entrain-defmt-print: {e:#}");
            ExitCode::FAILURE
        }
    }
}
