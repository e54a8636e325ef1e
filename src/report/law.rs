//! Which of the law's rules applied to a campaign: whether it is telemarketing (the law's hours
//! and caps apply) and, for each jurisdiction its rows belong to, how many rows and whether
//! dialer ships that jurisdiction's rules, with the date they were reviewed.

use crate::config::rules::Rules;
use crate::law::BUILT_IN;
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LawApplied {
    /// `false`: the campaign said it is not telemarketing; only its own rules held its rows.
    pub telemarketing: bool,
    /// When the shipped rules were read from their sources.
    pub reviewed: String,
    /// Each jurisdiction the campaign's rows belong to, `US` first.
    pub jurisdictions: Vec<JurisdictionRows>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JurisdictionRows {
    pub code: String,
    pub rows: u64,
    /// The citation of the rules applied; null when dialer ships none for it (its rows get
    /// the federal rules and the campaign's own).
    pub source: Option<String>,
}

impl LawApplied {
    pub async fn read(store: &Store, rules: &Rules) -> Result<Self, StoreError> {
        let mut by_code: BTreeMap<String, u64> = BTreeMap::new();
        for (jurisdictions, rows) in store.rows_by_jurisdictions().await? {
            for code in jurisdictions.codes() {
                *by_code.entry(code.to_owned()).or_default() += rows;
            }
        }
        let mut jurisdictions: Vec<JurisdictionRows> = by_code
            .into_iter()
            .map(|(code, rows)| JurisdictionRows {
                source: BUILT_IN
                    .jurisdiction(&code)
                    .map(|j| j.citation().to_owned()),
                code,
                rows,
            })
            .collect();
        jurisdictions.sort_by_key(|j| j.code != "US");
        Ok(Self {
            telemarketing: rules.law.telemarketing,
            reviewed: BUILT_IN.reviewed.to_string(),
            jurisdictions,
        })
    }

    /// One line for the text report.
    pub fn line(&self) -> String {
        if !self.telemarketing {
            return "law: not telemarketing ([law] telemarketing = false): only the campaign's own hours and caps apply".to_owned();
        }
        if self.jurisdictions.is_empty() {
            return "law: no US number: only the campaign's own hours and caps apply".to_owned();
        }
        let listed: Vec<String> = self
            .jurisdictions
            .iter()
            .map(|j| match j.source {
                Some(_) => format!("{} {}", j.code, j.rows),
                None => format!("{} {} (no rules shipped: federal only)", j.code, j.rows),
            })
            .collect();
        format!(
            "law: rows by jurisdiction {} (rules reviewed {})",
            listed.join(" · "),
            self.reviewed
        )
    }
}
