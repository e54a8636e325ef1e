//! PostgreSQL's `COPY … FROM STDIN` text format, for an import's batch: a row a line, its
//! fields split by tabs, `\N` for NULL. Fields are escaped as the format says (a label or a
//! row's parameters may hold a tab, a line break or a backslash).

/// Rows of fields in COPY's text format.
#[derive(Default)]
pub(super) struct CopyText {
    text: String,
    first_field: bool,
}

impl CopyText {
    pub(super) fn with_capacity(bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            first_field: true,
        }
    }

    /// Adds a field to the row being written (`None`: NULL).
    pub(super) fn field(&mut self, value: Option<&str>) -> &mut Self {
        if !self.first_field {
            self.text.push('\t');
        }
        self.first_field = false;
        let Some(value) = value else {
            self.text.push_str("\\N");
            return self;
        };
        for c in value.chars() {
            match c {
                '\\' => self.text.push_str("\\\\"),
                '\t' => self.text.push_str("\\t"),
                '\n' => self.text.push_str("\\n"),
                '\r' => self.text.push_str("\\r"),
                c => self.text.push(c),
            }
        }
        self
    }

    /// Ends the row being written.
    pub(super) fn end_row(&mut self) {
        self.text.push('\n');
        self.first_field = true;
    }

    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.text.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::CopyText;

    #[test]
    fn fields_are_escaped_and_null_is_backslash_n() {
        let mut text = CopyText::with_capacity(0);
        text.field(Some("a\tb"))
            .field(None)
            .field(Some("c\\d\ne\r"));
        text.end_row();
        text.field(Some("")).end_row();
        assert_eq!(text.into_bytes(), b"a\\tb\t\\N\tc\\\\d\\ne\\r\n\n".to_vec());
    }
}
