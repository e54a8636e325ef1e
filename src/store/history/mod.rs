//! A campaign's whole history, read out of one database and written into another (`dialer
//! move`), each side in one transaction, written once for both backends: `read` takes one
//! snapshot of every table's part of the campaign, `write` creates the campaign with all of it
//! or nothing.

mod read;
mod write;

use super::dialect::{Tx, on_backend};
use super::open::{Pool, on_pool};
use super::{CampaignHistory, Database, LoadError, Store, StoreError};

impl Store {
    /// The campaign `name`, created in `database` with `history`, in one transaction: refused
    /// (`LoadError::Occupied`, nothing written) when the database has the campaign already
    /// with anything in it. A campaign there without rows, runs or rejects (opened by a
    /// report, say) is taken as it is. The campaign gets a key of its own in this database.
    pub async fn create_with_history(
        database: &Database,
        name: &str,
        history: &CampaignHistory,
    ) -> Result<Self, LoadError> {
        let pool = Pool::connect(database).await?;
        let (campaign, key) = on_pool!(&pool, pool => {
            let mut tx = pool.begin().await?;
            let claimed = write::create(Tx::from(&mut tx), name, history).await?;
            tx.commit().await?;
            claimed
        });
        let clock = pool.clock().await?;
        Ok(pool.into_store(clock, campaign, Some(key))?)
    }

    /// Every table's part of this campaign, rows and attempts in id order, in one snapshot (a
    /// `dialer campaign pause` or a callback written meanwhile is either all in it or not at
    /// all). Nothing is written.
    pub async fn history(&self) -> Result<CampaignHistory, StoreError> {
        on_backend!(self, db => {
            let mut tx = db.pool.begin().await?;
            let history = read::history(Tx::from(&mut tx), db.campaign).await?;
            tx.commit().await?;
            Ok(history)
        })
    }
}
