//! Twilio's list paging: `PageSize` (1 to 1000, default 50), `Page` and `PageToken`, and the
//! `*_page_uri` links, which keep the list's filters so a client can follow them blindly.

use super::failure::{CODE_INVALID_PARAMETER, Failure};
use crate::twilio::resource::PageMeta;

const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 1000;
const PAGING_KEYS: [&str; 3] = ["PageSize", "Page", "PageToken"];

#[derive(Debug, Clone)]
pub(crate) struct PageRequest {
    size: usize,
    page: usize,
    /// Index of the first item: from `PageToken` when given, else `Page × PageSize`.
    offset: usize,
    /// The query's other pairs, repeated in every link.
    filters: Vec<(String, String)>,
}

impl PageRequest {
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, Failure> {
        let invalid = |key: &str, rule: &str, value: &str| {
            Failure::bad_request(
                CODE_INVALID_PARAMETER,
                format!("invalid {key}: {rule}, got {value:?}"),
            )
        };
        let value = |key: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let size = match value("PageSize") {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => return Err(invalid("PageSize", "must be from 1 to 1000", raw)),
            },
        };
        let page = match value("Page") {
            None => 0,
            Some(raw) => raw
                .trim()
                .parse::<usize>()
                .map_err(|_| invalid("Page", "must be a whole number", raw))?,
        };
        let offset = match value("PageToken") {
            None => page.saturating_mul(size),
            Some(raw) => raw
                .strip_prefix("PT")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| invalid("PageToken", "is not a token this server issued", raw))?,
        };
        let filters = pairs
            .iter()
            .filter(|(k, _)| !PAGING_KEYS.contains(&k.as_str()))
            .cloned()
            .collect();
        Ok(Self {
            size,
            page,
            offset,
            filters,
        })
    }

    /// Cuts this request's page out of `items` and describes it; `path` is the list's path.
    pub fn cut<T>(&self, items: Vec<T>, path: &str) -> (Vec<T>, PageMeta) {
        let total = items.len();
        let page_items: Vec<T> = items
            .into_iter()
            .skip(self.offset)
            .take(self.size)
            .collect();
        let link = |page: usize, offset: Option<usize>| {
            let mut pairs: Vec<(&str, String)> = self
                .filters
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            pairs.push(("PageSize", self.size.to_string()));
            pairs.push(("Page", page.to_string()));
            if let Some(offset) = offset {
                pairs.push(("PageToken", format!("PT{offset}")));
            }
            let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            format!("{path}?{query}")
        };
        let has_next = self.offset.saturating_add(self.size) < total;
        let meta = PageMeta {
            page: Some(self.page as u64),
            page_size: Some(self.size as u64),
            start: Some(self.offset as u64),
            end: Some(self.offset as i64 + page_items.len() as i64 - 1),
            uri: Some(link(self.page, (self.offset > 0).then_some(self.offset))),
            first_page_uri: Some(link(0, None)),
            next_page_uri: has_next.then(|| link(self.page + 1, Some(self.offset + self.size))),
            previous_page_uri: (self.page > 0 && self.offset >= self.size)
                .then(|| link(self.page - 1, Some(self.offset - self.size))),
        };
        (page_items, meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn next_links_keep_filters_and_stop_at_the_last_page() {
        let request =
            PageRequest::from_query(&query(&[("To", "+15550100001"), ("PageSize", "2")])).unwrap();
        let (items, meta) = request.cut(vec![1, 2, 3], "/calls");
        assert_eq!(items, [1, 2]);
        let next = meta.next_page_uri.unwrap();
        assert_eq!(
            next,
            "/calls?To=%2B15550100001&PageSize=2&Page=1&PageToken=PT2"
        );
        let next_query: Vec<(String, String)> =
            serde_urlencoded::from_str(next.split_once('?').unwrap().1).unwrap();
        let (items, meta) = PageRequest::from_query(&next_query)
            .unwrap()
            .cut(vec![1, 2, 3], "/calls");
        assert_eq!(items, [3]);
        assert_eq!(meta.next_page_uri, None);
    }

    #[test]
    fn page_size_outside_one_to_a_thousand_is_refused() {
        for bad in ["0", "1001", "x"] {
            assert!(
                PageRequest::from_query(&query(&[("PageSize", bad)])).is_err(),
                "{bad}"
            );
        }
    }
}
