//! Records for every provider, [`Store`]: seeded ids, optimistic versions (QuickBooks'
//! `SyncToken`), inactive and deleted records (kept, so a read of a deleted id can say so), and
//! the paging styles vendors use: page numbers with an empty or a repeated last page
//! ([`page_number`]), `$next`/`$back` links ([`neighbour_link`]), offsets ([`offset`]) and server
//! result sets read in turn (`resultId`/`readMore`, [`ResultSets`]).

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Debug;
use std::ops::Range;

use serde_json::Value;
use time::OffsetDateTime;

/// The kinds of record a provider stores (`Bill`, `contacts`).
pub(crate) trait Kind: Copy + Eq + Ord + Debug {
    /// The vendor's name of the kind.
    fn name(self) -> &'static str;

    /// Whether `asked` names the record whose id is `id`: exactly, unless the vendor's ids are
    /// GUIDs read without regard to case (Xero).
    fn same_id(self, id: &str, asked: &str) -> bool {
        id == asked
    }
}

/// Whether a record is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// In use.
    Active,
    /// Kept but out of use (`Active: false`, `ARCHIVED`): read, not listed by default.
    Inactive,
    /// Deleted: kept only so a read of its id can say it was.
    Deleted,
}

/// One record of one scope (a realm, business, tenant or company; empty when a vendor has one).
#[derive(Debug, Clone)]
pub(crate) struct Record<K> {
    /// Its kind.
    pub kind: K,
    /// Its scope.
    pub scope: String,
    /// Its id.
    pub id: String,
    /// The part of its scope it belongs to, when a vendor divides a scope (an entity of an
    /// Intacct multi-entity company); `None`: the scope's top level, or a vendor that does not
    /// divide. [`Store::insert`] leaves it `None`; the store's lookups do not read it (the
    /// provider filters by it).
    pub entity: Option<String>,
    /// Its version, from 0, one more on every update.
    pub version: u64,
    /// Whether it is in use.
    pub status: Status,
    /// When it was last written, on the virtual clock.
    pub updated: OffsetDateTime,
    /// The record as the vendor's API returns it.
    pub body: Value,
}

/// Why the store refused a read or write; each provider renders it as its vendor does
/// ([`super::ErrorRenderer::refused`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecordRefusal {
    /// No record of that kind and id in the scope, ever.
    NotFound {
        /// The kind's name.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The record was deleted.
    Deleted {
        /// The kind's name.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The write named an older version than the record's.
    Stale {
        /// The kind's name.
        kind: &'static str,
        /// Its id.
        id: String,
        /// The version the write named.
        given: u64,
        /// The record's version.
        current: u64,
    },
}

/// The records of one provider's run, in creation order.
#[derive(Debug, Clone)]
pub(crate) struct Store<K> {
    records: Vec<Record<K>>,
    /// The last number given per scope and kind.
    numbers: BTreeMap<(String, K), u64>,
}

impl<K> Default for Store<K> {
    fn default() -> Store<K> {
        Store {
            records: Vec::new(),
            numbers: BTreeMap::new(),
        }
    }
}

impl<K: Kind> Store<K> {
    /// The next number of `kind` in `scope`, from 1: sequential ids as QuickBooks and Intacct
    /// give them.
    pub(crate) fn next_number(&mut self, scope: &str, kind: K) -> u64 {
        let last = self.numbers.entry((scope.to_owned(), kind)).or_insert(0);
        *last += 1;
        *last
    }

    /// Add a record (version 0, active), returning it.
    pub(crate) fn insert(
        &mut self,
        kind: K,
        scope: &str,
        id: String,
        now: OffsetDateTime,
        body: Value,
    ) -> &mut Record<K> {
        self.records.push(Record {
            kind,
            scope: scope.to_owned(),
            id,
            entity: None,
            version: 0,
            status: Status::Active,
            updated: now,
            body,
        });
        let last = self.records.len() - 1;
        &mut self.records[last]
    }

    fn position(&self, kind: K, scope: &str, id: &str) -> Option<usize> {
        self.records
            .iter()
            .position(|r| r.kind == kind && r.scope == scope && kind.same_id(&r.id, id))
    }

    /// The record of `kind` with `id` in `scope`, active or inactive.
    pub(crate) fn find(&self, kind: K, scope: &str, id: &str) -> Result<&Record<K>, RecordRefusal> {
        let index = self.check(kind, scope, id)?;
        Ok(&self.records[index])
    }

    /// The record to update at `now`, when `version` (if the write names one) is its own: its
    /// version goes up by one and `updated` moves to `now`.
    pub(crate) fn update(
        &mut self,
        kind: K,
        scope: &str,
        id: &str,
        version: Option<u64>,
        now: OffsetDateTime,
    ) -> Result<&mut Record<K>, RecordRefusal> {
        let index = self.check_version(kind, scope, id, version)?;
        let record = &mut self.records[index];
        record.version += 1;
        record.updated = now;
        Ok(record)
    }

    /// The record a write naming `version` (if it names one) may change, or the refusal
    /// [`Store::update`] would give, without writing: for vendors that check a write's version
    /// before its other checks, and for deletes that name a version (QuickBooks' `SyncToken`).
    pub(crate) fn writable(
        &self,
        kind: K,
        scope: &str,
        id: &str,
        version: Option<u64>,
    ) -> Result<&Record<K>, RecordRefusal> {
        let index = self.check_version(kind, scope, id, version)?;
        Ok(&self.records[index])
    }

    /// Delete a record at `now`: it stays, [`Status::Deleted`], so reads can say so.
    pub(crate) fn delete(
        &mut self,
        kind: K,
        scope: &str,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<&Record<K>, RecordRefusal> {
        let index = self.check(kind, scope, id)?;
        let record = &mut self.records[index];
        record.status = Status::Deleted;
        record.updated = now;
        Ok(record)
    }

    /// The records of `kind` that are not deleted, in creation order; of every scope with
    /// `None`.
    pub(crate) fn live<'a>(
        &'a self,
        kind: K,
        scope: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Record<K>> + 'a {
        self.records.iter().filter(move |r| {
            r.kind == kind
                && r.status != Status::Deleted
                && scope.is_none_or(|scope| r.scope == scope)
        })
    }

    /// [`Store::live`], to change in place (no new version).
    pub(crate) fn live_mut<'a>(
        &'a mut self,
        kind: K,
        scope: Option<&'a str>,
    ) -> impl Iterator<Item = &'a mut Record<K>> + 'a {
        self.records.iter_mut().filter(move |r| {
            r.kind == kind
                && r.status != Status::Deleted
                && scope.is_none_or(|scope| r.scope == scope)
        })
    }

    /// The bodies of the live records of `kind` in every scope, for the state's JSON.
    pub(crate) fn bodies(&self, kind: K) -> Vec<Value> {
        self.live(kind, None).map(|r| r.body.clone()).collect()
    }

    /// The record as `check` finds it, when the `version` a write names (if any) is its own.
    fn check_version(
        &self,
        kind: K,
        scope: &str,
        id: &str,
        version: Option<u64>,
    ) -> Result<usize, RecordRefusal> {
        let index = self.check(kind, scope, id)?;
        let current = self.records[index].version;
        match version.filter(|given| *given != current) {
            Some(given) => Err(RecordRefusal::Stale {
                kind: kind.name(),
                id: id.to_owned(),
                given,
                current,
            }),
            None => Ok(index),
        }
    }

    fn check(&self, kind: K, scope: &str, id: &str) -> Result<usize, RecordRefusal> {
        match self.position(kind, scope, id) {
            Some(index) if self.records[index].status == Status::Deleted => {
                Err(RecordRefusal::Deleted {
                    kind: kind.name(),
                    id: id.to_owned(),
                })
            }
            Some(index) => Ok(index),
            None => Err(RecordRefusal::NotFound {
                kind: kind.name(),
                id: id.to_owned(),
            }),
        }
    }
}

/// What a page past the last one answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PastEnd {
    /// Nothing (Xero).
    Empty,
    /// The last page again (Sage: "If the value for page is greater than the actual number of
    /// pages, the last page will be returned automatically").
    Last,
}

/// One page of a numbered list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    /// The items on it, as indices of the list.
    pub range: Range<usize>,
    /// Its number, from 1 (the last page's with [`PastEnd::Last`]).
    pub number: usize,
    /// How many pages the list has (at least 1 with [`PastEnd::Last`]).
    pub count: usize,
}

/// Page `number` (from 1; 0 is read as 1) of `size` items of a list of `len`.
pub(crate) fn page_number(len: usize, number: usize, size: usize, past_end: PastEnd) -> Page {
    let size = size.max(1);
    let count = len.div_ceil(size);
    let number = match past_end {
        PastEnd::Empty => number.max(1),
        PastEnd::Last => number.clamp(1, count.max(1)),
    };
    let start = (number - 1).saturating_mul(size).min(len);
    Page {
        range: start..start.saturating_add(size).min(len),
        number,
        count: match past_end {
            PastEnd::Empty => count,
            PastEnd::Last => count.max(1),
        },
    }
}

/// The items from position `start` (from 1, as `STARTPOSITION` counts), at most `max`.
pub(crate) fn offset(len: usize, start: usize, max: usize) -> Range<usize> {
    let from = start.saturating_sub(1).min(len);
    from..from.saturating_add(max).min(len)
}

/// The `path?query` of page `to` of a list, for `$next`/`$back` links: `page` and `per_page`
/// (under the names given) first, then the request's other query parameters as they came.
pub(crate) fn neighbour_link(
    path: &str,
    query: &str,
    (page, per_page): (&str, &str),
    to: usize,
    size: usize,
) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    out.append_pair(page, &to.to_string());
    out.append_pair(per_page, &size.to_string());
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != page && name != per_page {
            out.append_pair(&name, &value);
        }
    }
    format!("{path}?{}", out.finish())
}

/// A query's results the server holds for the client to read in pages (`resultId`).
#[derive(Debug, Clone)]
pub(crate) struct ResultSet<T, M> {
    /// What the provider needs to answer the next page (the object, the fields, its owner).
    pub meta: M,
    /// Items per page.
    pub page_size: usize,
    /// Items the query found.
    pub total: usize,
    /// Items not read yet.
    pub rest: VecDeque<T>,
}

impl<T, M> ResultSet<T, M> {
    /// The query's results, none read yet.
    pub(crate) fn new(meta: M, page_size: usize, items: Vec<T>) -> ResultSet<T, M> {
        ResultSet {
            meta,
            page_size: page_size.max(1),
            total: items.len(),
            rest: items.into(),
        }
    }

    /// The next page, taken off the rest.
    pub(crate) fn next_page(&mut self) -> Vec<T> {
        let n = self.page_size.min(self.rest.len());
        self.rest.drain(..n).collect()
    }
}

/// The result sets a server holds open, by id; one is dropped once read to its end.
#[derive(Debug, Clone)]
pub(crate) struct ResultSets<T, M> {
    sets: BTreeMap<String, ResultSet<T, M>>,
}

impl<T, M> Default for ResultSets<T, M> {
    fn default() -> ResultSets<T, M> {
        ResultSets {
            sets: BTreeMap::new(),
        }
    }
}

impl<T, M> ResultSets<T, M> {
    /// Keep `set` under `id` when items remain in it.
    pub(crate) fn keep(&mut self, id: String, set: ResultSet<T, M>) {
        if !set.rest.is_empty() {
            self.sets.insert(id, set);
        }
    }

    /// Take set `id` out to read its next page (then [`ResultSets::keep`] it again), when
    /// `owns` accepts its meta; `None` for an id that is unknown, read to its end, or not the
    /// caller's.
    pub(crate) fn take(
        &mut self,
        id: &str,
        owns: impl FnOnce(&M) -> bool,
    ) -> Option<ResultSet<T, M>> {
        if !self.sets.get(id).is_some_and(|set| owns(&set.meta)) {
            return None;
        }
        self.sets.remove(id)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Thing {
        Bill,
    }

    impl Kind for Thing {
        fn name(self) -> &'static str {
            "Bill"
        }
    }

    #[test]
    fn versions_deletes_and_scopes_are_kept_apart() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut store = Store::default();
        assert_eq!(store.next_number("r1", Thing::Bill), 1);
        assert_eq!(store.next_number("r1", Thing::Bill), 2);
        assert_eq!(store.next_number("r2", Thing::Bill), 1);
        store.insert(Thing::Bill, "r1", "1".into(), now, json!({"Id": "1"}));
        store.insert(Thing::Bill, "r2", "1".into(), now, json!({"Id": "1"}));
        let later = now + time::Duration::seconds(5);
        let updated = store
            .update(Thing::Bill, "r1", "1", Some(0), later)
            .unwrap();
        assert_eq!((updated.version, updated.updated), (1, later));
        assert_eq!(
            store
                .update(Thing::Bill, "r1", "1", Some(0), later)
                .unwrap_err(),
            RecordRefusal::Stale {
                kind: "Bill",
                id: "1".into(),
                given: 0,
                current: 1
            }
        );
        store.delete(Thing::Bill, "r1", "1", later).unwrap();
        assert_eq!(
            store.find(Thing::Bill, "r1", "1").unwrap_err(),
            RecordRefusal::Deleted {
                kind: "Bill",
                id: "1".into()
            }
        );
        assert_eq!(
            store.find(Thing::Bill, "r1", "9").unwrap_err(),
            RecordRefusal::NotFound {
                kind: "Bill",
                id: "9".into()
            }
        );
        assert!(
            store.find(Thing::Bill, "r2", "1").is_ok(),
            "other scope untouched"
        );
        assert_eq!(store.bodies(Thing::Bill), vec![json!({"Id": "1"})]);
    }

    #[test]
    fn pages_past_the_end_are_empty_or_the_last_one() {
        assert_eq!(
            page_number(5, 2, 2, PastEnd::Empty),
            Page {
                range: 2..4,
                number: 2,
                count: 3
            }
        );
        assert_eq!(page_number(5, 9, 2, PastEnd::Empty).range, 5..5);
        assert_eq!(
            page_number(5, 9, 2, PastEnd::Last),
            Page {
                range: 4..5,
                number: 3,
                count: 3
            }
        );
        assert_eq!(page_number(0, 3, 20, PastEnd::Last).number, 1);
        assert_eq!(page_number(5, 0, 2, PastEnd::Empty).number, 1);
        assert_eq!(
            page_number(5, usize::MAX, usize::MAX, PastEnd::Empty).range,
            5..5
        );
    }

    #[test]
    fn offsets_count_from_one_and_stop_at_the_end() {
        assert_eq!(offset(10, 1, 3), 0..3);
        assert_eq!(offset(10, 9, 5), 8..10);
        assert_eq!(offset(10, 20, 5), 10..10);
        assert_eq!(offset(10, 0, 2), 0..2);
    }

    #[test]
    fn links_put_the_page_first_and_keep_the_rest_of_the_query() {
        assert_eq!(
            neighbour_link(
                "/contacts",
                "page=1&search=a+b&items_per_page=2",
                ("page", "items_per_page"),
                2,
                2
            ),
            "/contacts?page=2&items_per_page=2&search=a+b"
        );
    }

    #[test]
    fn result_sets_are_read_in_pages_by_their_owner_only() {
        let mut sets = ResultSets::default();
        let mut set = ResultSet::new("acme", 2, vec![1, 2, 3, 4, 5]);
        assert_eq!(set.next_page(), vec![1, 2]);
        sets.keep("id".to_owned(), set);
        assert!(sets.take("id", |owner| *owner == "beta").is_none());
        let mut set = sets.take("id", |owner| *owner == "acme").unwrap();
        assert_eq!((set.next_page(), set.total), (vec![3, 4], 5));
        sets.keep("id".to_owned(), set);
        let mut set = sets.take("id", |_| true).unwrap();
        assert_eq!(set.next_page(), vec![5]);
        sets.keep("id".to_owned(), set);
        assert!(
            sets.take("id", |_| true).is_none(),
            "read to its end: forgotten"
        );
    }
}
