//! Counts in the words a person reads: `1 line`, `2 lines`.

/// `n` and `noun`, plural unless `n` is one (`noun` is regular: the plural adds an `s`).
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    match n.into() {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1u64, "line"), "1 line");
        assert_eq!(count(0u64, "row"), "0 rows");
        assert_eq!(count(2u32, "duplicate"), "2 duplicates");
    }
}
