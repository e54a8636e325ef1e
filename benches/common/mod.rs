//! What both benchmarks share: a campaign file and a generated list in a temporary folder,
//! written the way a user would write them.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The list's file name, next to the campaign file.
pub const LIST_FILE: &str = "list.csv";

/// Writes `campaign.toml` (list `list.csv`, database beside it) and returns its path.
pub fn write_campaign(dir: &Path, cps: u32) -> std::io::Result<PathBuf> {
    let file = dir.join("campaign.toml");
    let campaign = format!(
        "[campaign]\nname = \"bench\"\nlist = \"{LIST_FILE}\"\nconference = \"BenchRoom\"\n\
         from = \"+15017122661\"\ncps = {cps}\n"
    );
    std::fs::write(&file, campaign)?;
    Ok(file)
}

/// The `index`-th distinct valid number: `+1415` and seven digits (up to ten million).
pub fn number(index: u64) -> String {
    format!("+1415{index:07}")
}

/// Streams a `to,timeout` list of `rows` distinct numbers to `dir/list.csv`.
pub fn write_list(dir: &Path, rows: u64) -> std::io::Result<PathBuf> {
    let path = dir.join(LIST_FILE);
    let mut out = BufWriter::new(File::create(&path)?);
    writeln!(out, "to,timeout")?;
    for index in 0..rows {
        writeln!(out, "{},{}", number(index), ring_timeout_secs(index))?;
    }
    out.flush()?;
    Ok(path)
}

/// A per-row `timeout` from 20 to 59 seconds, so every row carries a parameter of its own.
fn ring_timeout_secs(index: u64) -> u64 {
    20 + index % 40
}
