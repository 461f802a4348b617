//! A check of the write-ahead log before SQLite replays it.
//!
//! After a crash SQLite rebuilds the database from the `-wal` file: it
//! keeps the frames up to the last commit whose checksums hold and drops
//! the rest without a word. That is right for a torn tail (a transaction
//! that was being written when the process died, never acknowledged), but
//! if the log was damaged *after* it was written, the transactions behind
//! the damage were acknowledged pushes, and they would be lost silently.
//!
//! The log tells the two apart: frames are appended in order, and every
//! frame of the current log carries its header's two salts. A torn tail
//! ends the file; damage leaves frames of the current log, commit frames
//! among them, *behind* the first bad one. A damaged header with frames
//! after it is damage too (SQLite would ignore the whole log).
//!
//! Not caught: damage that reaches the end of the file (it looks like a
//! torn tail), or a log truncated inside its last committed frames. Format:
//! <https://www.sqlite.org/fileformat2.html#the_write_ahead_log>.

use std::path::Path;

/// Bytes of the log header and of each frame header.
const HEADER: usize = 32;
const FRAME_HEADER: usize = 24;
/// The magic numbers: the low bit says the checksums use big-endian words.
const MAGIC_LE: u32 = 0x377f_0682;
const MAGIC_BE: u32 = 0x377f_0683;

/// The log at `wal` is damaged: why, in words. `Ok` when it is absent,
/// intact, or ends in a torn tail.
pub(super) fn check(wal: &Path) -> Result<(), String> {
    match std::fs::read(wal) {
        Ok(bytes) => check_bytes(&bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot read the write-ahead log {}: {e}", wal.display())),
    }
}

fn word(bytes: &[u8], at: usize) -> u32 {
    bytes.get(at..at + 4).and_then(|b| b.try_into().ok()).map_or(0, u32::from_be_bytes)
}

/// SQLite's WAL checksum over `data` (a multiple of 8 bytes), from `seed`.
fn checksum(big_endian: bool, seed: (u32, u32), data: &[u8]) -> (u32, u32) {
    let (mut s0, mut s1) = seed;
    for pair in data.chunks_exact(8) {
        let (a, b) = pair.split_at(4);
        let read = |w: &[u8]| {
            let w: [u8; 4] = w.try_into().unwrap_or_default();
            if big_endian { u32::from_be_bytes(w) } else { u32::from_le_bytes(w) }
        };
        s0 = s0.wrapping_add(read(a)).wrapping_add(s1);
        s1 = s1.wrapping_add(read(b)).wrapping_add(s0);
    }
    (s0, s1)
}

fn check_bytes(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < HEADER {
        // Created but never written to: nothing was committed in it.
        return Ok(());
    }
    let magic = word(bytes, 0);
    let page = word(bytes, 8) as usize;
    let frame = FRAME_HEADER + page;
    let header_ok = (magic == MAGIC_LE || magic == MAGIC_BE)
        && page.is_power_of_two()
        && (512..=65536).contains(&page)
        && checksum(magic == MAGIC_BE, (0, 0), &bytes[..24]) == (word(bytes, 24), word(bytes, 28));
    if !header_ok {
        return if bytes.len() > HEADER {
            Err("the write-ahead log header is damaged: SQLite would ignore every write in it"
                .into())
        } else {
            Ok(())
        };
    }
    let big_endian = magic == MAGIC_BE;
    let salts = (word(bytes, 16), word(bytes, 20));
    let mut sum = (word(bytes, 24), word(bytes, 28));
    let frames = bytes[HEADER..].chunks_exact(frame);
    let mut broken = None;
    for (index, f) in frames.enumerate() {
        let own_salts = (word(f, 8), word(f, 12));
        if broken.is_none() {
            let s = checksum(big_endian, checksum(big_endian, sum, &f[..8]), &f[FRAME_HEADER..]);
            if own_salts == salts && s == (word(f, 16), word(f, 20)) {
                sum = s;
                continue;
            }
            broken = Some(index);
        } else if own_salts == salts && word(f, 4) != 0 {
            return Err(format!(
                "the write-ahead log is damaged at frame {}: committed writes behind it (frame {}) \
                 would be dropped by SQLite",
                broken.unwrap_or_default() + 1,
                index + 1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log of `commits` one-page transactions, as SQLite writes it.
    fn log(commits: u32) -> Vec<u8> {
        let page = 512;
        let mut out = Vec::new();
        for w in [MAGIC_LE, 3_007_000, page, 0, 11, 22] {
            out.extend(w.to_be_bytes());
        }
        let mut sum = checksum(false, (0, 0), &out);
        out.extend(sum.0.to_be_bytes());
        out.extend(sum.1.to_be_bytes());
        for n in 1..=commits {
            let mut frame = Vec::new();
            frame.extend(n.to_be_bytes());
            frame.extend(n.to_be_bytes()); // a commit: database size in pages
            frame.extend(11_u32.to_be_bytes());
            frame.extend(22_u32.to_be_bytes());
            let body = vec![n as u8; page as usize];
            sum = checksum(false, checksum(false, sum, &frame[..8]), &body);
            frame.extend(sum.0.to_be_bytes());
            frame.extend(sum.1.to_be_bytes());
            frame.extend(body);
            out.extend(frame);
        }
        out
    }

    #[test]
    fn an_intact_log_a_torn_tail_and_an_empty_file_pass() {
        assert_eq!(check_bytes(&log(4)), Ok(()));
        let whole = log(4);
        assert_eq!(check_bytes(&whole[..whole.len() - 100]), Ok(()));
        let mut last_damaged = log(4);
        let end = last_damaged.len();
        last_damaged[end - 10] ^= 0xff;
        assert_eq!(check_bytes(&last_damaged), Ok(()), "looks like a torn tail");
        assert_eq!(check_bytes(&[]), Ok(()));
        assert_eq!(check_bytes(&log(0)), Ok(()));
    }

    #[test]
    fn damage_with_commits_behind_it_is_reported() {
        let mut damaged = log(4);
        damaged[HEADER + FRAME_HEADER + 536 + 30] ^= 0xff; // inside frame 2's page
        let err = check_bytes(&damaged).unwrap_err();
        assert!(err.contains("frame 2") && err.contains("frame 3"), "{err}");
        let mut header = log(2);
        header[16] ^= 0xff; // a salt: the header checksum fails
        assert!(check_bytes(&header).unwrap_err().contains("header"));
    }
}
