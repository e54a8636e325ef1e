//! The list's bytes as the CSV reader should see them. Left to itself, the reader counts
//! lines by LF only (an old-Mac CR-only export is all "line 1"), numbers a record from where
//! the previous one ended (a record after a blank line, or after a CRLF, one line early), and
//! reads a quote never closed to the end of the file without a word (every line after it
//! hidden in one field). So each line end (CRLF, LF or a lone CR) reaches the reader as one LF,
//! and the same pass follows the quoting as the reader does, to give the line each record
//! starts on and the line of a quote left open.

use std::collections::VecDeque;
use std::io::{self, Read};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first of `""`.
    QuoteInQuoted,
}

pub struct LineEnds<R> {
    inner: R,
    after_cr: bool,
    quoting: Quoting,
    line: u64,
    last: u8,
    quote_opened_on: u64,
    at_record_start: bool,
    /// Lines of the records read ahead by the reader's buffer, in order.
    record_starts: VecDeque<u64>,
}

impl<R: Read> LineEnds<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            after_cr: false,
            quoting: Quoting::FieldStart,
            line: 1,
            last: 0,
            quote_opened_on: 0,
            at_record_start: true,
            record_starts: VecDeque::new(),
        }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The line the next record (the header first) starts on: call once per record read.
    pub fn next_record_start(&mut self) -> Option<u64> {
        self.record_starts.pop_front()
    }

    /// Once everything is read: the line of a quote never closed, if any.
    pub fn unclosed_quote(&self) -> Option<u64> {
        (self.quoting == Quoting::Quoted).then_some(self.quote_opened_on)
    }

    /// The number of the last line read (a final line end starts no new line).
    pub fn last_line(&self) -> u64 {
        self.line - u64::from(self.last == b'\n' && self.line > 1)
    }

    fn follow(&mut self, b: u8) {
        use Quoting::*;
        // Blank lines between records are skipped, as the reader skips them.
        if self.at_record_start && b != b'\n' {
            self.record_starts.push_back(self.line);
            self.at_record_start = false;
        }
        if b == b'\n' && self.quoting != Quoted {
            self.at_record_start = true;
        }
        self.quoting = match (self.quoting, b) {
            (FieldStart, b'"') => {
                self.quote_opened_on = self.line;
                Quoted
            }
            (FieldStart | Unquoted | QuoteInQuoted, b',' | b'\n') => FieldStart,
            (Quoted, b'"') => QuoteInQuoted,
            (QuoteInQuoted, b'"') | (Quoted, _) => Quoted,
            (FieldStart | Unquoted | QuoteInQuoted, _) => Unquoted,
        };
        if b == b'\n' {
            self.line += 1;
        }
        self.last = b;
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            let mut kept = 0;
            for i in 0..n {
                let raw = buf[i];
                let after_cr = std::mem::replace(&mut self.after_cr, raw == b'\r');
                if raw == b'\n' && after_cr {
                    continue;
                }
                let b = if raw == b'\r' { b'\n' } else { raw };
                self.follow(b);
                buf[kept] = b;
                kept += 1;
            }
            // A read that only dropped the LF of a CRLF is not the end of the file.
            if kept > 0 || n == 0 {
                return Ok(kept);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `bytes` through `LineEnds`, `chunk` bytes at a time.
    fn through(bytes: &[u8], chunk: usize) -> (Vec<u8>, Option<u64>, u64, Vec<u64>) {
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut reader = LineEnds::new(Chunks(bytes, chunk));
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        let starts = std::iter::from_fn(|| reader.next_record_start()).collect();
        (out, reader.unclosed_quote(), reader.last_line(), starts)
    }

    #[test]
    fn every_kind_of_line_end_becomes_one_lf_whatever_the_chunking() {
        for chunk in [1, 2, 3, 64] {
            let (out, open, last, _) = through(b"a\r\nb\rc\nd\r\r\ne\r", chunk);
            assert_eq!(out, b"a\nb\nc\nd\n\ne\n", "chunk {chunk}");
            assert_eq!((open, last), (None, 6));
        }
    }

    #[test]
    fn records_start_after_blank_lines_and_span_quoted_line_ends() {
        let (_, _, _, starts) = through(b"h\n\n\r\na\n\"b\n\nc\"\n  \nd", 3);
        assert_eq!(starts, [1, 4, 5, 8, 9]);
    }

    #[test]
    fn a_quote_left_open_is_found_with_its_line_and_closed_ones_are_not() {
        assert_eq!(through(b"to,n\n+1,\"open\n+2,x\n", 7).1, Some(2));
        for closed in [
            &b"to,n\n+1,\"a \"\"b\"\"\nc\"\n"[..],
            b"to\n+1\"5\"\n",
            b"\"a\"b,\"\"\n",
        ] {
            let shown = String::from_utf8_lossy(closed);
            assert_eq!(through(closed, 5).1, None, "{shown:?}");
        }
    }
}
