//! The SCIM operations as the HTTP edge calls them: each runs in one
//! transaction of the token's tenant (so a PATCH applies all its operations
//! or none), checks `If-Match`, writes an audit event, and answers with the
//! resource as it now is.

use prep_tenancy::{Database, TenantTx};
use serde_json::{json, Value};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::groups::{self, GroupRow, GroupWrite};
use super::list::ListQuery;
use super::projection::Projection;
use super::schema::{ResourceType, GROUPS, USERS};
use super::store::{self, version};
use super::tokens::{ScimClient, ScimTokens};
use super::users::{self, UserRow, UserWrite};
use super::values::{self, Mode};
use super::{patch, ScimError};
use crate::MasterKey;

/// Users or Groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `/Users`.
    Users,
    /// `/Groups`.
    Groups,
}

impl Kind {
    /// Its resource type.
    pub fn rt(self) -> &'static ResourceType {
        match self {
            Kind::Users => &USERS,
            Kind::Groups => &GROUPS,
        }
    }
}

/// Who calls and for which request (audit).
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The authenticated SCIM client.
    pub client: ScimClient,
    /// The request id, recorded on audit events.
    pub request_id: &'a str,
}

/// A resource as returned, with its version for the `ETag` header.
#[derive(Debug)]
pub struct Resource {
    /// The document.
    pub doc: Value,
    /// The weak ETag.
    pub version: String,
}

/// The SCIM service provider.
pub struct Scim {
    db: Database,
    tokens: ScimTokens,
    base: String,
}

impl Scim {
    /// `public_url` is where clients reach the gateway; resources' `meta.location`
    /// is built on it.
    pub fn new(db: Database, master: &MasterKey, public_url: &str) -> Self {
        Scim {
            db,
            tokens: ScimTokens::new(master),
            base: format!("{}/scim/v2", public_url.trim_end_matches('/')),
        }
    }

    /// The SCIM root URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Token issue and rotation, for the admin API.
    pub fn tokens(&self) -> &ScimTokens {
        &self.tokens
    }

    /// The client behind a bearer token.
    pub async fn authenticate(&self, bearer: &str) -> Result<ScimClient, ScimError> {
        self.tokens.authenticate(&self.db, bearer).await
    }

    async fn begin(&self, client: ScimClient) -> Result<TenantTx, ScimError> {
        Ok(self.db.scope(client.tenant).begin_write().await?)
    }

    /// `GET /Users/{id}` or `/Groups/{id}`.
    pub async fn get(
        &self,
        client: ScimClient,
        kind: Kind,
        id: &str,
        projection: &Projection,
    ) -> Result<Resource, ScimError> {
        let id = parse_id(kind, id)?;
        let mut tx = self.begin(client).await?;
        let mut found = self
            .load(&mut tx, kind, id, false, projection.wants("members"))
            .await?;
        tx.commit().await?;
        projection.apply(&mut found.doc);
        Ok(found)
    }

    /// `GET /Users?…`, `POST /Users/.search` and the same for groups.
    pub async fn list(
        &self,
        client: ScimClient,
        kind: Kind,
        query: &ListQuery,
    ) -> Result<Value, ScimError> {
        let mut tx = self.begin(client).await?;
        let total = count(&mut tx, kind, query).await?;
        let mut docs = Vec::new();
        if query.count > 0 && total >= query.start_index {
            docs = self
                .page(&mut tx, kind, query, query.start_index - 1, query.count)
                .await?;
        }
        tx.commit().await?;
        Ok(query.response(total, docs))
    }

    /// `POST /.search`: users, then groups, paged as one list. A filter
    /// naming attributes one type lacks matches nothing of that type; when
    /// neither type can take the request, the users' error is the answer.
    pub async fn search_all(
        &self,
        client: ScimClient,
        users: Result<ListQuery, ScimError>,
        groups: Result<ListQuery, ScimError>,
    ) -> Result<Value, ScimError> {
        let (users, groups) = match (users, groups) {
            (Err(e), Err(_)) => return Err(e),
            (u, g) => (u.ok(), g.ok()),
        };
        let mut tx = self.begin(client).await?;
        let mut parts = Vec::new();
        for (kind, query) in [(Kind::Users, users), (Kind::Groups, groups)] {
            if let Some(query) = query {
                match count(&mut tx, kind, &query).await {
                    Ok(n) => parts.push((kind, query, n)),
                    Err(ScimError::BadRequest { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let Some((_, first, _)) = parts.first() else {
            return Err(ScimError::bad(
                super::ScimType::InvalidFilter,
                "the filter names attributes no resource type has",
            ));
        };
        let (start, want) = (first.start_index, first.count);
        let total: i64 = parts.iter().map(|(_, _, n)| n).sum();
        let (mut skip, mut left, mut docs) = (start - 1, want, Vec::new());
        for (kind, query, n) in &parts {
            if left == 0 {
                break;
            }
            if skip >= *n {
                skip -= n;
                continue;
            }
            let mut page = self.page(&mut tx, *kind, query, skip, left).await?;
            for doc in &mut page {
                query.projection.apply(doc);
            }
            left -= page.len() as i64;
            skip = 0;
            docs.extend(page);
        }
        tx.commit().await?;
        Ok(json!({
            "schemas": [super::schema::LIST_RESPONSE],
            "totalResults": total,
            "itemsPerPage": docs.len(),
            "startIndex": start,
            "Resources": docs,
        }))
    }

    async fn page(
        &self,
        tx: &mut TenantTx,
        kind: Kind,
        query: &ListQuery,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Value>, ScimError> {
        let rt = kind.rt();
        let (from, columns) = table(kind, query);
        let mut page = QueryBuilder::<Postgres>::new(format!("select {columns} from {from}"));
        query.push_where(&mut page, rt)?;
        query.push_page(&mut page, rt, offset, limit)?;
        Ok(match kind {
            Kind::Users => page
                .build_query_as::<UserRow>()
                .fetch_all(tx.conn())
                .await?
                .iter()
                .map(|r| r.to_doc(&self.base))
                .collect(),
            Kind::Groups => page
                .build_query_as::<GroupRow>()
                .fetch_all(tx.conn())
                .await?
                .iter()
                .map(|r| r.to_doc(&self.base))
                .collect(),
        })
    }

    /// `POST /Users` or `/Groups`.
    pub async fn create(
        &self,
        call: Call<'_>,
        kind: Kind,
        body: &Value,
    ) -> Result<Resource, ScimError> {
        let doc = values::canonical_resource(body, kind.rt(), Mode::Create)?;
        let id = Uuid::new_v4();
        let mut tx = self.begin(call.client).await?;
        let (action, details) = match kind {
            Kind::Users => {
                users::insert(&mut tx, id, &UserWrite::from_doc(&doc, id)?).await?;
                ("user.provision", json!({}))
            }
            Kind::Groups => {
                let w = GroupWrite::from_doc(&doc)?;
                groups::insert(&mut tx, id, &w).await?;
                (
                    "group.provision",
                    json!({ "membersAdded": w.members.len() }),
                )
            }
        };
        store::audit(&mut tx, call, action, (kind.rt().name, id), details).await?;
        let created = self.load(&mut tx, kind, id, false, true).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// `PUT`: the body replaces every writable attribute.
    pub async fn replace(
        &self,
        call: Call<'_>,
        kind: Kind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<Resource, ScimError> {
        let id = parse_id(kind, id)?;
        let mut doc = values::canonical_resource(body, kind.rt(), Mode::Replace)?;
        if let Some(given) = body.get("id").and_then(Value::as_str) {
            if given != id.to_string() {
                return Err(ScimError::bad(
                    super::ScimType::Mutability,
                    "id in the body differs from the resource's id",
                ));
            }
        }
        if let Value::Object(map) = &mut doc {
            map.insert("id".into(), json!(id));
        }
        self.write(call, kind, id, if_match, |current| {
            // A PUT that leaves `active` out must not reactivate a user the
            // IdP deactivated: absent means "as it is", not the default.
            if let (Value::Object(map), Some(active)) = (&mut doc, current.get("active")) {
                map.entry("active").or_insert_with(|| active.clone());
            }
            Ok(doc)
        })
        .await
    }

    /// `PATCH`: the operations apply in order, all or none.
    pub async fn patch(
        &self,
        call: Call<'_>,
        kind: Kind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<Resource, ScimError> {
        let id = parse_id(kind, id)?;
        let ops = patch::parse(body)?;
        self.write(call, kind, id, if_match, |current| {
            let mut doc = current.clone();
            patch::apply(&mut doc, &ops, kind.rt())?;
            Ok(doc)
        })
        .await
    }

    /// Loads and locks, checks the version, computes the new document with
    /// `change`, writes it and audits what changed.
    async fn write(
        &self,
        call: Call<'_>,
        kind: Kind,
        id: Uuid,
        if_match: Option<&str>,
        change: impl FnOnce(&Value) -> Result<Value, ScimError>,
    ) -> Result<Resource, ScimError> {
        let mut tx = self.begin(call.client).await?;
        let (action, details) = match kind {
            Kind::Users => {
                let row = users::load(&mut tx, id, true)
                    .await?
                    .ok_or_else(|| not_found(kind, id))?;
                store::if_match(if_match, &version(row.updated_at))?;
                let before = row.to_doc(&self.base);
                let after = change(&before)?;
                let w = UserWrite::from_doc(&after, id)?;
                users::update(&mut tx, id, &w).await?;
                let action = match (row.active, w.active()) {
                    (true, false) => "user.deactivate",
                    (false, true) => "user.reactivate",
                    _ => "user.update",
                };
                let details = json!({ "attributes": store::changed_attributes(&before, &after) });
                (action, details)
            }
            Kind::Groups => {
                let row = groups::load(&mut tx, id, true, true)
                    .await?
                    .ok_or_else(|| not_found(kind, id))?;
                store::if_match(if_match, &version(row.updated_at))?;
                let before = row.to_doc(&self.base);
                let after = change(&before)?;
                let w = GroupWrite::from_doc(&after)?;
                let members_before = row.member_ids();
                groups::update(&mut tx, id, &w, &members_before).await?;
                let details = json!({
                    "attributes": store::changed_attributes(&before, &after),
                    "membersAdded": w.members.difference(&members_before).count(),
                    "membersRemoved": members_before.difference(&w.members).count(),
                });
                ("group.update", details)
            }
        };
        store::audit(&mut tx, call, action, (kind.rt().name, id), details).await?;
        let updated = self.load(&mut tx, kind, id, false, true).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// `DELETE`: a user becomes a tombstone (sessions and tokens end in the
    /// same transaction); a group goes, its grants first.
    pub async fn delete(
        &self,
        call: Call<'_>,
        kind: Kind,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ScimError> {
        let id = parse_id(kind, id)?;
        let mut tx = self.begin(call.client).await?;
        let current = self.load(&mut tx, kind, id, true, false).await?;
        store::if_match(if_match, &current.version)?;
        let (done, action, target) = match kind {
            Kind::Users => (users::tombstone(&mut tx, id).await?, "user.delete", "User"),
            Kind::Groups => (groups::delete(&mut tx, id).await?, "group.delete", "Group"),
        };
        if !done {
            return Err(not_found(kind, id));
        }
        store::audit(&mut tx, call, action, (target, id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn load(
        &self,
        tx: &mut TenantTx,
        kind: Kind,
        id: Uuid,
        for_update: bool,
        with_members: bool,
    ) -> Result<Resource, ScimError> {
        let (doc, updated_at) = match kind {
            Kind::Users => {
                let row = users::load(tx, id, for_update)
                    .await?
                    .ok_or_else(|| not_found(kind, id))?;
                (row.to_doc(&self.base), row.updated_at)
            }
            Kind::Groups => {
                let row = groups::load(tx, id, for_update, with_members)
                    .await?
                    .ok_or_else(|| not_found(kind, id))?;
                (row.to_doc(&self.base), row.updated_at)
            }
        };
        Ok(Resource {
            doc,
            version: version(updated_at),
        })
    }
}

fn table(kind: Kind, query: &ListQuery) -> (&'static str, String) {
    match kind {
        Kind::Users => ("users u", users::COLUMNS.to_owned()),
        Kind::Groups => (
            "groups g",
            groups::columns(query.projection.wants("members")),
        ),
    }
}

/// How many resources of `kind` match the query's filter.
async fn count(tx: &mut TenantTx, kind: Kind, query: &ListQuery) -> Result<i64, ScimError> {
    let (from, _) = table(kind, query);
    let mut count = QueryBuilder::<Postgres>::new(format!("select count(*) from {from}"));
    query.push_where(&mut count, kind.rt())?;
    Ok(count.build_query_scalar().fetch_one(tx.conn()).await?)
}

/// A path id that is not a UUID names nothing we have: 404, like a missing
/// one or another tenant's.
fn parse_id(kind: Kind, id: &str) -> Result<Uuid, ScimError> {
    Uuid::try_parse(id).map_err(|_| {
        let shown: String = id.chars().take(64).collect();
        ScimError::NotFound(format!("{} {shown}", kind.rt().name))
    })
}

fn not_found(kind: Kind, id: Uuid) -> ScimError {
    ScimError::NotFound(format!("{} {id}", kind.rt().name))
}
