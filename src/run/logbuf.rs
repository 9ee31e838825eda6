//! ctlinit's log lines are collected and written to stderr once per wake,
//! just before the loop blocks again (and at exit, together with the
//! summary line): what a wake decided — a forwarded TERM, a spawn — is
//! performed before the lines that tell about it are written, and all the
//! lines of one wake cost one write(2).

use std::io::{self, Write};
use std::sync::Mutex;

static LINES: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// The logger's target: appends to the buffer.
pub struct Collector;

impl Write for Collector {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let mut lines = LINES.lock().unwrap_or_else(|e| e.into_inner());
        lines.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes what was collected, then `last` (the summary line), in one write.
pub fn flush_with(last: &str) {
    let mut lines = LINES.lock().unwrap_or_else(|e| e.into_inner());
    if lines.is_empty() && last.is_empty() {
        return;
    }
    lines.extend_from_slice(last.as_bytes());
    let _ = io::stderr().write_all(&lines);
    lines.clear();
}

/// Writes what was collected.
pub fn flush() {
    flush_with("");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_for_the_flush_and_go_out_in_order() {
        let _ = Collector.write_all(b"one\n");
        let _ = Collector.write_all(b"two\n");
        assert_eq!(&LINES.lock().unwrap()[..], b"one\ntwo\n");
        flush_with("last\n");
        assert!(LINES.lock().unwrap().is_empty());
    }
}
