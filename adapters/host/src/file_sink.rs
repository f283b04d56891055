//! The output file's byte sink: the encoder writes straight into an aligned buffer, which
//! goes to the file in 2 MiB writes.
//!
//! On Linux a large render ([`DIRECT_MIN_BYTES`] and more) is written with `O_DIRECT`:
//! the buffer goes from the process to the disk without a copy into the page cache.
//! That copy (and the page cache's allocation, accounting and writeback of 635 MB per
//! hour of 16-bit stereo) cost more CPU than synthesising one binaural voice (W1: ~0.5 s
//! of system time per hour of audio, BENCHMARKS.md), and filled the cache with a file
//! that is written once and read, if ever, by another program later: what `dd
//! oflag=direct` and recorders that stream to disk do. Direct I/O needs the buffer,
//! the file offset and the length aligned to the device's logical block; [`ALIGN`]
//! (4096) covers the block sizes in use. Everything but the file's last partial block
//! is written that way; the tail is written after clearing `O_DIRECT` (a buffered write
//! of the same file, which Linux keeps coherent with the direct ones).
//!
//! A direct write pins the buffer's pages for the device (`get_user_pages`): 512 small
//! pages per 2 MiB cost ~5 % of W1's CPU in the kernel's page walk. With `O_DIRECT` the
//! buffer is one 2 MiB-aligned region advised as a transparent huge page
//! (`MADV_HUGEPAGE`, honoured where THP is `madvise` or `always`), pinned as one.
//!
//! Where the file system does not take `O_DIRECT` (tmpfs before Linux 6.6 refuses it at
//! `open`, some file systems refuse the first write with `EINVAL`) the sink falls back
//! to buffered writes; the bytes are the same either way (tested), only the path through
//! the kernel differs.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Alignment of the buffer, of each direct write's length and of the file offset.
pub const ALIGN: usize = 4096;
/// A transparent huge page's size and alignment (x86_64 and aarch64 Linux).
const HUGE: usize = 2 << 20;
/// Bytes per write (a multiple of [`ALIGN`]): one huge page.
const CAP: usize = HUGE;
/// Renders whose file will reach this size are written with `O_DIRECT` (on Linux): for
/// smaller files the page cache costs little, and a file read back at once (the tests,
/// a preview) is served from it.
pub const DIRECT_MIN_BYTES: u64 = 8 << 20;

/// A file written through an aligned buffer, directly when the OS allows it.
pub struct FileSink {
    file: File,
    /// `CAP + HUGE` bytes, of which `CAP` from `off` on are used, aligned to [`HUGE`].
    buf: Vec<u8>,
    off: usize,
    /// Bytes of the buffer not yet written.
    len: usize,
    direct: bool,
}

impl FileSink {
    /// Creates (truncates) `path`, with `O_DIRECT` when `direct` is asked and the OS and
    /// file system take it.
    pub fn create(path: &Path, direct: bool) -> io::Result<Self> {
        let (file, direct) = match open_direct(path, direct) {
            Some(f) => (f, true),
            None => (File::create(path)?, false),
        };
        // A zeroed allocation this large is mapped and not touched (calloc knows fresh
        // mappings are zero): the advice applies before the first write faults a page in.
        let mut buf = vec![0u8; CAP + HUGE];
        let off = buf.as_ptr().align_offset(HUGE);
        if direct {
            advise_huge(&mut buf[off..off + CAP]);
        }
        Ok(Self {
            file,
            buf,
            off,
            len: 0,
            direct,
        })
    }

    /// Whether the writes go around the page cache (`O_DIRECT`).
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// The next `n` bytes of the file (at most 64 KiB), to be filled and then
    /// [`FileSink::commit`]ted; writes out the buffer first when they do not fit.
    pub fn space(&mut self, n: usize) -> io::Result<&mut [u8]> {
        debug_assert!(n <= CAP - ALIGN);
        if self.len + n > CAP {
            self.write_out(false)?;
        }
        let at = self.off + self.len;
        Ok(&mut self.buf[at..at + n])
    }

    /// Marks `n` bytes of the last [`FileSink::space`] as filled.
    pub fn commit(&mut self, n: usize) {
        self.len += n;
    }

    /// Appends `bytes`.
    pub fn write_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let n = bytes.len().min(CAP - ALIGN);
            self.space(n)?.copy_from_slice(&bytes[..n]);
            self.commit(n);
            bytes = &bytes[n..];
        }
        Ok(())
    }

    /// Writes out everything and returns the file (not yet synced).
    pub fn finish(mut self) -> io::Result<File> {
        self.write_out(true)?;
        Ok(self.file)
    }

    /// Writes the buffer out: all of it when `all` or when buffered; when direct, the
    /// whole blocks only (the rest moves to the front of the buffer), or with `all` the
    /// whole blocks directly and then the tail buffered.
    fn write_out(&mut self, all: bool) -> io::Result<()> {
        let whole = if self.direct {
            self.len / ALIGN * ALIGN
        } else {
            self.len
        };
        if whole > 0 {
            // `write_all`, keeping count of what went out: a write the file system
            // refuses with O_DIRECT (`EINVAL`, nothing written) is retried buffered from
            // where the earlier ones stopped.
            let mut done = 0;
            while done < whole {
                match self
                    .file
                    .write(&self.buf[self.off + done..self.off + whole])
                {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => done += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if self.direct && e.raw_os_error() == Some(EINVAL) => {
                        self.go_buffered()?;
                    }
                    Err(e) => return Err(e),
                }
            }
            self.buf
                .copy_within(self.off + whole..self.off + self.len, self.off);
            self.len -= whole;
        }
        if all && self.len > 0 {
            self.go_buffered()?;
            self.file
                .write_all(&self.buf[self.off..self.off + self.len])?;
            self.len = 0;
        }
        Ok(())
    }

    /// Clears `O_DIRECT` on the open file (no-op when buffered already).
    fn go_buffered(&mut self) -> io::Result<()> {
        if self.direct {
            clear_direct(&self.file)?;
            self.direct = false;
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
const EINVAL: i32 = libc::EINVAL;
#[cfg(not(target_os = "linux"))]
const EINVAL: i32 = 22;

#[cfg(target_os = "linux")]
fn open_direct(path: &Path, direct: bool) -> Option<File> {
    use std::fs::OpenOptions;
    use std::os::unix::fs::OpenOptionsExt;
    if !direct {
        return None;
    }
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_path: &Path, _direct: bool) -> Option<File> {
    None
}

/// Asks for `region` (aligned to [`HUGE`], not yet touched) to be backed by a transparent
/// huge page. Advice only: where THP is off the call fails and small pages back it.
#[cfg(target_os = "linux")]
fn advise_huge(region: &mut [u8]) {
    // SAFETY: `region` is memory this process owns and keeps mapped for the call;
    // MADV_HUGEPAGE changes how it is backed, never its contents, and its result is
    // advisory (an error leaves the mapping as it was).
    unsafe {
        libc::madvise(
            region.as_mut_ptr().cast::<libc::c_void>(),
            region.len(),
            libc::MADV_HUGEPAGE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_region: &mut [u8]) {}

#[cfg(target_os = "linux")]
fn clear_direct(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is an open descriptor owned by `file` for the duration of both calls;
    // F_GETFL/F_SETFL take and return plain integers.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_DIRECT) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn clear_direct(_file: &File) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic bytes (a sequence that never repeats within a block, so a block
    /// written twice or out of place shows).
    fn pattern(n: usize) -> Vec<u8> {
        let mut s = 0x2545_f491u32;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                s as u8
            })
            .collect()
    }

    /// Whatever the mode and however the bytes arrive (a 44-byte header first, pieces of
    /// every size, tails shorter and longer than a block, more than one buffer), the
    /// file holds exactly the bytes appended.
    #[test]
    fn the_file_holds_the_bytes_appended_in_either_mode() {
        let dir = tempfile::tempdir().unwrap();
        let data = pattern(3 * CAP + 5 * ALIGN + 44 + 1234);
        for direct in [false, true] {
            for (k, piece) in [16_384usize, 4096, 1, 65_536, 24_576, 7]
                .into_iter()
                .enumerate()
            {
                for len in [0, 44, ALIGN, ALIGN + 1, CAP - 3, CAP, CAP + 44, data.len()] {
                    let path = dir.path().join(format!("f-{direct}-{k}-{len}"));
                    let mut s = FileSink::create(&path, direct).unwrap();
                    if !direct {
                        assert!(!s.is_direct());
                    }
                    let want = &data[..len];
                    let head = len.min(44);
                    s.write_all(&want[..head]).unwrap();
                    for c in want[head..].chunks(piece) {
                        s.space(c.len()).unwrap().copy_from_slice(c);
                        s.commit(c.len());
                    }
                    drop(s.finish().unwrap());
                    let got = std::fs::read(&path).unwrap();
                    assert!(got == want, "direct {direct}, piece {piece}, length {len}");
                }
            }
        }
    }

    /// `O_DIRECT` as the kernel sees the descriptor (`/proc/self/fdinfo`'s octal flags).
    #[cfg(target_os = "linux")]
    fn kernel_says_direct(s: &FileSink) -> bool {
        use std::os::fd::AsRawFd;
        let info =
            std::fs::read_to_string(format!("/proc/self/fdinfo/{}", s.file.as_raw_fd())).unwrap();
        let flags = info
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .map(|v| i32::from_str_radix(v.trim(), 8).unwrap())
            .unwrap();
        flags & libc::O_DIRECT != 0
    }

    /// The sink's mode is the descriptor's: direct where the file system takes it (the
    /// test machine's ext4 `/tmp`) through the whole blocks, buffered for the tail.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_mode_is_the_descriptors() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = FileSink::create(&dir.path().join("probe"), true).unwrap();
        assert_eq!(kernel_says_direct(&s), s.is_direct());
        let direct_at_open = s.is_direct();
        s.write_all(&pattern(3 * CAP)).unwrap();
        // Whole blocks went out directly: no fallback on a file system that took the flag.
        assert_eq!(s.is_direct(), direct_at_open);
        assert_eq!(kernel_says_direct(&s), s.is_direct());
        s.write_all(&pattern(5)).unwrap();
        s.write_out(true).unwrap();
        assert!(
            !s.is_direct() && !kernel_says_direct(&s),
            "the tail goes buffered"
        );
    }

    /// With `O_DIRECT` the buffer is one transparent huge page where the kernel offers
    /// them on request (`/sys/kernel/mm/transparent_hugepage/enabled` is `madvise` or
    /// `always`, as on the test machine): `/proc/self/smaps` shows the buffer's mapping
    /// with 2 MiB of `AnonHugePages` once written. Fails if the advice goes or the buffer
    /// loses its alignment.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_direct_buffer_is_a_huge_page() {
        let thp = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .unwrap_or_default();
        if !thp.contains("[madvise]") && !thp.contains("[always]") {
            return; // transparent huge pages are off on this kernel: small pages it is
        }
        let dir = tempfile::tempdir().unwrap();
        let mut s = FileSink::create(&dir.path().join("huge"), true).unwrap();
        s.write_all(&pattern(CAP - ALIGN)).unwrap();
        let at = s.buf.as_ptr() as usize + s.off;
        assert_eq!(at % HUGE, 0);
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut huge_kb = None;
        let mut inside = false;
        for line in smaps.lines() {
            let range = line
                .split_whitespace()
                .next()
                .and_then(|r| r.split_once('-'));
            if let Some((a, b)) = range.filter(|_| !line.starts_with(|c: char| c.is_uppercase())) {
                let (a, b) = (
                    usize::from_str_radix(a, 16).unwrap_or(0),
                    usize::from_str_radix(b, 16).unwrap_or(0),
                );
                inside = a <= at && at < b;
            } else if inside {
                if let Some(v) = line.strip_prefix("AnonHugePages:") {
                    huge_kb = v.trim().trim_end_matches("kB").trim().parse::<usize>().ok();
                }
            }
        }
        assert!(
            huge_kb.is_some_and(|kb| kb >= HUGE / 1024),
            "AnonHugePages of the buffer's mapping: {huge_kb:?}"
        );
        drop(s.finish().unwrap());
    }

    /// A direct write the kernel refuses (`EINVAL`: here a buffer one byte off its
    /// alignment, as a file system with stricter rules would refuse it) writes nothing;
    /// the sink goes on buffered and the file holds every byte.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_refused_direct_write_falls_back_to_buffered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("refused");
        let mut s = FileSink::create(&path, true).unwrap();
        if !s.is_direct() {
            return; // this file system refused O_DIRECT at open: nothing to refuse later
        }
        s.off += 1;
        let data = pattern(2 * CAP + 77);
        s.write_all(&data).unwrap();
        assert!(!s.is_direct() && !kernel_says_direct(&s));
        drop(s.finish().unwrap());
        assert!(std::fs::read(&path).unwrap() == data);
    }
}
