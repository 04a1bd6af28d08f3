//! Listing and searching (RFC 7644 §3.4.2, §3.4.3): query parameters or a
//! SearchRequest body become one SQL statement with the filter, the order
//! (always ending in the id, so pages are stable) and the page.

use serde_json::{json, Value};
use sqlx::{Postgres, QueryBuilder};

use super::discovery::MAX_RESULTS;
use super::filter::{self, Expr};
use super::projection::Projection;
use super::schema::{ResourceType, LIST_RESPONSE, SEARCH_REQUEST};
use super::{ScimError, ScimType};

/// Page size when the client does not ask.
const DEFAULT_COUNT: i64 = 100;

/// A list or search request.
#[derive(Debug)]
pub struct ListQuery {
    /// The parsed filter.
    pub filter: Option<Expr>,
    /// 1-based index of the first result.
    pub start_index: i64,
    /// Page size (0: only the total).
    pub count: i64,
    /// Attribute to sort by.
    pub sort_by: Option<String>,
    /// `sortOrder=descending`.
    pub descending: bool,
    /// Which attributes to return.
    pub projection: Projection,
}

impl ListQuery {
    /// From the query string of `GET /Users` or `GET /Groups`.
    pub fn from_params(
        params: &[(String, String)],
        rt: &'static ResourceType,
    ) -> Result<ListQuery, ScimError> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        Self::build(
            get("filter"),
            get("startIndex")
                .map(|s| parse_int("startIndex", s))
                .transpose()?,
            get("count").map(|s| parse_int("count", s)).transpose()?,
            get("sortBy"),
            get("sortOrder"),
            get("attributes"),
            get("excludedAttributes"),
            rt,
        )
    }

    /// From a `POST …/.search` body.
    pub fn from_search(body: &Value, rt: &'static ResourceType) -> Result<ListQuery, ScimError> {
        let declared = body["schemas"]
            .as_array()
            .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(SEARCH_REQUEST)));
        if !declared {
            return Err(ScimError::bad(
                ScimType::InvalidSyntax,
                format!("a search request must declare the schema {SEARCH_REQUEST}"),
            ));
        }
        let text = |k: &str| -> Result<Option<&str>, ScimError> {
            match body.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(ScimError::bad(
                    ScimType::InvalidValue,
                    format!("{k} must be a string"),
                )),
            }
        };
        let list = |k: &str| -> Result<Option<String>, ScimError> {
            match body.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(a)) => Ok(Some(
                    a.iter()
                        .map(|v| v.as_str().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(","),
                )),
                Some(_) => Err(ScimError::bad(
                    ScimType::InvalidValue,
                    format!("{k} must be an array of attribute names"),
                )),
            }
        };
        let int = |k: &str| -> Result<Option<i64>, ScimError> {
            match body.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                    ScimError::bad(ScimType::InvalidValue, format!("{k} must be an integer"))
                }),
            }
        };
        let (attributes, excluded) = (list("attributes")?, list("excludedAttributes")?);
        Self::build(
            text("filter")?,
            int("startIndex")?,
            int("count")?,
            text("sortBy")?,
            text("sortOrder")?,
            attributes.as_deref(),
            excluded.as_deref(),
            rt,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        filter: Option<&str>,
        start_index: Option<i64>,
        count: Option<i64>,
        sort_by: Option<&str>,
        sort_order: Option<&str>,
        attributes: Option<&str>,
        excluded: Option<&str>,
        rt: &'static ResourceType,
    ) -> Result<ListQuery, ScimError> {
        let descending = match sort_order.map(str::to_ascii_lowercase).as_deref() {
            None | Some("ascending") => false,
            Some("descending") => true,
            Some(_) => {
                return Err(ScimError::bad(
                    ScimType::InvalidValue,
                    "sortOrder must be ascending or descending",
                ))
            }
        };
        Ok(ListQuery {
            filter: filter
                .filter(|f| !f.trim().is_empty())
                .map(filter::parse)
                .transpose()?,
            // RFC 7644 §3.4.2.4: below 1 is read as 1, a negative count as 0.
            start_index: start_index.unwrap_or(1).max(1),
            count: count.unwrap_or(DEFAULT_COUNT).clamp(0, MAX_RESULTS),
            sort_by: sort_by.filter(|s| !s.is_empty()).map(str::to_owned),
            descending,
            projection: Projection::parse(attributes, excluded, rt)?,
        })
    }

    /// Appends ` where <filter>` (if any) to a statement over `rt`'s table.
    pub fn push_where(
        &self,
        qb: &mut QueryBuilder<'_, Postgres>,
        rt: &'static ResourceType,
    ) -> Result<(), ScimError> {
        if let Some(expr) = &self.filter {
            qb.push(" where ");
            filter::push_sql(qb, expr, rt)?;
        }
        Ok(())
    }

    /// Appends the order and a page of `limit` rows after `offset`.
    pub fn push_page(
        &self,
        qb: &mut QueryBuilder<'_, Postgres>,
        rt: &'static ResourceType,
        offset: i64,
        limit: i64,
    ) -> Result<(), ScimError> {
        filter::push_order(qb, self.sort_by.as_deref(), self.descending, rt)?;
        qb.push(" limit ")
            .push_bind(limit)
            .push(" offset ")
            .push_bind(offset);
        Ok(())
    }

    /// The list response for one page.
    pub fn response(&self, total: i64, mut resources: Vec<Value>) -> Value {
        for r in &mut resources {
            self.projection.apply(r);
        }
        json!({
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "itemsPerPage": resources.len(),
            "startIndex": self.start_index,
            "Resources": resources,
        })
    }
}

fn parse_int(name: &str, text: &str) -> Result<i64, ScimError> {
    text.trim()
        .parse()
        .map_err(|_| ScimError::bad(ScimType::InvalidValue, format!("{name} must be an integer")))
}
