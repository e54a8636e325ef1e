//! Domain values as the database stores them: each is a text column holding the value's own
//! string form, and is parsed again when read back, so a query binds and returns typed values
//! and a corrupt value is a decode error instead of a string that travels on (a row's zones
//! excepted: an unknown name is skipped, below). The domain stays free of sqlx: these impls
//! live here, for any database whose text type is a `str`.

use crate::domain::{
    CallSid, CallStatus, CalleeZones, CampaignStatus, ConferenceSid, Endpoint, Hold, Jurisdictions,
    Label, LineState, PersonId, RowState, RunEnding, ZoneSource,
};
use crate::twilio::{ParamError, RowOverrides};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

/// The column type of a value stored as text.
macro_rules! text_column {
    ($name:ty) => {
        impl<DB: Database> Type<DB> for $name
        where
            str: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as Type<DB>>::compatible(ty)
            }
        }
    };
}

/// A value written as its own string form.
macro_rules! written_as_text {
    ($name:ty) => {
        impl<'q, DB: Database> Encode<'q, DB> for $name
        where
            String: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                Encode::<DB>::encode(self.as_str().to_owned(), buf)
            }
        }
    };
}

macro_rules! stored_as_text {
    ($($name:ty),* $(,)?) => {$(
        text_column!($name);
        written_as_text!($name);

        impl<'r, DB: Database> Decode<'r, DB> for $name
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let raw = <&str as Decode<DB>>::decode(value)?;
                Ok(<$name>::parse(raw)?)
            }
        }
    )*};
}

stored_as_text!(
    Endpoint,
    Label,
    CallSid,
    ConferenceSid,
    CallStatus,
    RowState,
    LineState,
    CampaignStatus,
    Hold,
    Jurisdictions,
    PersonId,
    RunEnding,
    ZoneSource,
    crate::store::EventSource,
    crate::store::OptOutSource,
    crate::store::AttemptOutcome,
);

text_column!(CalleeZones);
written_as_text!(CalleeZones);

/// A row's zones are read back leniently (`CalleeZones::from_stored` says why): a zone name
/// the bundled database no longer knows does not fail the read.
impl<'r, DB: Database> Decode<'r, DB> for CalleeZones
where
    &'r str: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        <&str as Decode<DB>>::decode(value).map(CalleeZones::from_stored)
    }
}

/// A value read as the database gives it (`T`), for a field that converts it further with
/// `#[sqlx(try_from = ...)]` into a type the store cannot implement sqlx's traits for.
pub struct Stored<T>(T);

impl<DB: Database, T: Type<DB>> Type<DB> for Stored<T> {
    fn type_info() -> DB::TypeInfo {
        T::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        T::compatible(ty)
    }
}

impl<'r, DB: Database, T: Decode<'r, DB>> Decode<'r, DB> for Stored<T> {
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        T::decode(value).map(Self)
    }
}

/// A row's own values (a JSON object), read back into the overrides, or into why they no
/// longer read (the row then fails with that reason instead of failing the whole read).
pub type StoredOverrides = Stored<String>;

impl From<StoredOverrides> for Result<RowOverrides, ParamError> {
    fn from(stored: StoredOverrides) -> Self {
        RowOverrides::from_json(&stored.0)
    }
}

/// A list of names as stored: a JSON array in a text column.
impl TryFrom<Stored<String>> for Vec<String> {
    type Error = serde_json::Error;

    fn try_from(stored: Stored<String>) -> Result<Self, Self::Error> {
        serde_json::from_str(&stored.0)
    }
}

/// A Twilio error code as stored: a nullable signed integer, read back as `Option<u32>`.
impl TryFrom<Stored<Option<i64>>> for Option<u32> {
    type Error = std::num::TryFromIntError;

    fn try_from(stored: Stored<Option<i64>>) -> Result<Self, Self::Error> {
        stored.0.map(u32::try_from).transpose()
    }
}
