//! Cursor connections with key-set pagination.
//!
//! A cursor is base64url(JSON) of the sort key of the row it points at, so
//! the next page is `where (sort key) > (cursor) order by sort key limit n+1`:
//! stable under concurrent inserts and served by an index, unlike OFFSET.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, SimpleObject};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};

/// Default page size when `first` is omitted.
pub const DEFAULT_PAGE: i32 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE: i32 = 100;

/// Extra fields on every connection.
#[derive(SimpleObject, Default)]
pub struct ConnectionMeta {
    /// How many objects match the filter, across all pages. Counted only
    /// when selected.
    pub total_count: i64,
}

/// A public connection of `T` with string cursors and `totalCount`.
pub type Page<T> = Connection<String, T, ConnectionMeta>;

/// Validated `first` / `after` arguments.
#[derive(Debug)]
pub struct PageArgs<K> {
    /// Rows to return.
    pub first: i32,
    /// The sort key to start after.
    pub after: Option<K>,
}

impl<K: DeserializeOwned> PageArgs<K> {
    /// Parses the client's arguments, refusing sizes outside 1..=100 and
    /// cursors that are not ours.
    pub fn parse(first: Option<i32>, after: Option<String>) -> ApiResult<Self> {
        let first = first.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ApiError::bad_input(format!(
                "`first` must be between 1 and {MAX_PAGE}, got {first}"
            )));
        }
        let after = after.map(|c| decode_cursor(&c)).transpose()?;
        Ok(Self { first, after })
    }

    /// The SQL limit: one more than asked, to learn whether a next page exists.
    pub fn limit(&self) -> i64 {
        i64::from(self.first) + 1
    }
}

/// Encodes a sort key as an opaque cursor.
pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// Decodes a cursor produced by [`encode_cursor`] for the same sort key type.
pub fn decode_cursor<K: DeserializeOwned>(cursor: &str) -> ApiResult<K> {
    let invalid = || ApiError::bad_input("`after` is not a cursor of this connection");
    if cursor.len() > 512 {
        return Err(invalid());
    }
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    serde_json::from_slice(&raw).map_err(|_| invalid())
}

/// Whether the client selected `totalCount` on the connection being resolved.
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Builds a connection from `limit()` rows fetched in sort order.
pub fn build_page<T, K, F>(
    mut rows: Vec<T>,
    args: &PageArgs<impl Sized>,
    total_count: i64,
    key: F,
) -> Page<T>
where
    T: async_graphql::OutputType,
    K: Serialize,
    F: Fn(&T) -> K,
{
    let has_next = rows.len() > args.first as usize;
    rows.truncate(args.first as usize);
    let mut page = Connection::with_additional_fields(
        args.after.is_some(),
        has_next,
        ConnectionMeta { total_count },
    );
    page.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(encode_cursor(&key(&row)), row)),
    );
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let key = ("Store 12".to_owned(), Uuid::new_v4());
        let c = encode_cursor(&key);
        assert_eq!(decode_cursor::<(String, Uuid)>(&c).ok(), Some(key));
        assert!(decode_cursor::<(String, Uuid)>("nope").is_err());
        assert!(decode_cursor::<(String, Uuid)>(&encode_cursor(&42)).is_err());
        assert!(PageArgs::<(String, Uuid)>::parse(Some(0), None).is_err());
        assert!(PageArgs::<(String, Uuid)>::parse(Some(101), None).is_err());
        assert_eq!(
            PageArgs::<(String, Uuid)>::parse(None, None)
                .map(|a| a.limit())
                .ok(),
            Some(21)
        );
    }
}
