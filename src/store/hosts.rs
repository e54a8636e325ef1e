//! What changes when several hosts share the database (PostgreSQL): the account's call
//! schedule lives in it, and rows are leased one by one instead of a campaign being locked.

use super::Store;
use super::postgres::AccountSchedule;
use crate::domain::AccountSid;
use std::time::Duration;

impl Store {
    /// How long a claim holds its row on a shared database (the campaign's `database.lease`);
    /// nothing changes on SQLite, whose runs hold the campaign's lock instead.
    pub fn with_lease(self, lease: Duration) -> Self {
        match self {
            Self::Sqlite(store) => Self::Sqlite(store),
            Self::Postgres(store) => Self::Postgres(store.with_lease(lease)),
        }
    }

    /// Whether other hosts may be dialing this campaign at the same time: rows are then
    /// leased, and one whose holder's lease ran out is taken over while a run goes on.
    pub fn is_shared(&self) -> bool {
        match self {
            Self::Sqlite(_) => false,
            Self::Postgres(_) => true,
        }
    }

    /// The account's schedule kept in this database, when hosts share it; `None` on SQLite,
    /// whose runs share this machine's slot file instead.
    pub fn account_schedule(&self, account: &AccountSid) -> Option<AccountSchedule> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(store) => Some(store.account_schedule(account)),
        }
    }
}
