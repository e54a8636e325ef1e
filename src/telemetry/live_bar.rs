//! One live progress bar at the bottom of the terminal, with log lines and diagnostics printed
//! above it, the way cargo shows them. The bar is drawn on stdout by moving the cursor back over
//! its last drawing; a line written meanwhile (to stderr, the same terminal) moves the cursor
//! on, and the next drawing leaves the old one on screen, frozen. So every line written while
//! the bar is shown goes through here: the bar is cleared, the line written, the bar drawn
//! again below it.
//!
//! The bar is drawn two columns short of the terminal's width: indicatif fills its line to
//! the edge, and the `^C` a terminal echoes on Ctrl-C would wrap onto the next line, where
//! clearing the bar would clear the `^C` and leave the bar on screen.

use console::Term;
use indicatif::{ProgressBar, ProgressDrawTarget, TermLike};
use std::io::{self, IsTerminal, Write};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

/// The bar on screen, set by the progress view while it shows one.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Whether stderr is a terminal, taken to be the one the bar is on.
static STDERR_ON_SCREEN: LazyLock<bool> = LazyLock::new(|| io::stderr().is_terminal());

fn shown() -> MutexGuard<'static, Option<ProgressBar>> {
    SHOWN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where a bar is drawn: stdout, short of its width by room for an echoed `^C` (nowhere on
/// a terminal that cannot move its cursor, `TERM` unset or `dumb`, as indicatif's own).
pub fn stdout_target() -> ProgressDrawTarget {
    if console::is_dumb() {
        return ProgressDrawTarget::hidden();
    }
    ProgressDrawTarget::term_like_with_hz(Box::new(RoomForCtrlC(Term::buffered_stdout())), 20)
}

/// A terminal two columns narrower than it is.
#[derive(Debug)]
struct RoomForCtrlC(Term);

impl TermLike for RoomForCtrlC {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(2).max(1)
    }

    fn height(&self) -> u16 {
        self.0.size().0
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_up(n)
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_down(n)
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_right(n)
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_left(n)
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.0.write_line(s)
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.0.write_str(s)
    }

    fn clear_line(&self) -> io::Result<()> {
        self.0.clear_line()
    }

    fn flush(&self) -> io::Result<()> {
        self.0.flush()
    }
}

/// From now on, lines written through `above` go above `bar`.
pub fn show(bar: &ProgressBar) {
    *shown() = Some(bar.clone());
}

/// Clears `bar` off the screen for good, so that what follows (the summary) is not under it.
pub fn hide(bar: &ProgressBar) {
    let mut shown = shown();
    bar.finish_and_clear();
    *shown = None;
}

/// Runs `write`, which prints whole lines to stdout, above the bar if one is shown: a
/// `println!` while the bar may be on screen goes through here.
pub fn above<R>(write: impl FnOnce() -> R) -> R {
    match &*shown() {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// Runs `write`, which prints whole lines to stderr, above the bar when stderr is a terminal.
/// Elsewhere the lines are not on the bar's screen, and a stderr that nobody drains must not
/// hold the bar (and with it the progress view) while it waits.
pub fn above_stderr<R>(write: impl FnOnce() -> R) -> R {
    if *STDERR_ON_SCREEN {
        above(write)
    } else {
        write()
    }
}

/// Stderr for the log's writer thread, each line written through `above_stderr`. The log's
/// formatter escapes the control characters a terminal obeys in the values it writes, but not
/// a carriage return or a line feed, with which a value would forge lines of the log: those
/// are escaped here, but for the line's own end.
pub(super) struct Stderr;

impl Write for Stderr {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        if body.iter().any(|b| matches!(b, b'\r' | b'\n')) {
            let mut one_line = Vec::with_capacity(line.len() + 8);
            for byte in body {
                match byte {
                    b'\r' => one_line.extend_from_slice(b"\\r"),
                    b'\n' => one_line.extend_from_slice(b"\\n"),
                    b => one_line.push(*b),
                }
            }
            one_line.extend_from_slice(&line[body.len()..]);
            above_stderr(|| io::stderr().write_all(&one_line))?;
        } else {
            above_stderr(|| io::stderr().write_all(line))?;
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
