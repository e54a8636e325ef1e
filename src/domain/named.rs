//! Enums whose every variant has one name, as the database stores it: `ALL`, `as_str` and
//! `parse` come from one table, so a name cannot be added to one of them and not the others.

/// `named_enum! { /// docs  pub enum Name("a thing") { Variant = "name", ... } }`: the enum
/// (`Copy`, comparable, hashable) and its names; `parse` refuses others as "not a thing".
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident($what:literal) {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)*
        }

        impl $name {
            pub const ALL: [Self; [$($text),*].len()] = [$(Self::$variant),*];

            /// The name the database stores.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }

            pub fn parse(raw: &str) -> Result<Self, $crate::domain::Invalid> {
                Self::ALL
                    .into_iter()
                    .find(|value| value.as_str() == raw)
                    .ok_or_else(|| $crate::domain::Invalid(format!(concat!("not ", $what, ": {:?}"), raw)))
            }
        }
    };
}
pub(crate) use named_enum;
