//! SCIM Groups over `groups` and `group_members`. Membership is written as
//! a difference (inserts and deletes of the members that changed), so the
//! revocation triggers fire only for the users concerned.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use prep_tenancy::TenantTx;
use serde_json::{json, Value};
use uuid::Uuid;

use super::schema::GROUP;
use super::store::{self, rfc3339, version};
use super::{ScimError, ScimType};

/// Selected for every group; members only when asked (Entra lists groups
/// with `excludedAttributes=members`, and members can be many).
pub(super) fn columns(with_members: bool) -> String {
    let members = if with_members {
        "coalesce((select jsonb_agg(jsonb_build_object('value', u.id, 'display', nullif(u.display_name, '')) \
                                    order by u.id) \
                   from group_members m join users u on u.tenant_id = m.tenant_id and u.id = m.user_id \
                   where m.tenant_id = g.tenant_id and m.group_id = g.id), '[]')"
    } else {
        "null::jsonb"
    };
    format!("g.id, g.display_name, g.external_id, g.created_at, g.updated_at, {members} as members")
}

/// A group as read.
#[derive(sqlx::FromRow)]
pub(super) struct GroupRow {
    pub id: Uuid,
    display_name: String,
    external_id: Option<String>,
    created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    members: Option<Value>,
}

impl GroupRow {
    /// The SCIM document; `base` is the SCIM root URL.
    pub fn to_doc(&self, base: &str) -> Value {
        let mut doc = json!({
            "schemas": [GROUP],
            "id": self.id,
            "displayName": self.display_name,
            "meta": {
                "resourceType": "Group",
                "created": rfc3339(self.created_at),
                "lastModified": rfc3339(self.updated_at),
                "location": format!("{base}/Groups/{}", self.id),
                "version": version(self.updated_at),
            },
        });
        if let Some(e) = &self.external_id {
            doc["externalId"] = json!(e);
        }
        if let Some(Value::Array(members)) = &self.members {
            let members: Vec<Value> = members
                .iter()
                .map(|m| {
                    let id = m["value"].as_str().unwrap_or_default();
                    let mut member = json!({
                        "value": id,
                        "$ref": format!("{base}/Users/{id}"),
                        "type": "User",
                    });
                    if let Some(d) = m["display"].as_str() {
                        member["display"] = json!(d);
                    }
                    member
                })
                .collect();
            doc["members"] = Value::Array(members);
        }
        doc
    }

    /// The member ids, when loaded.
    pub fn member_ids(&self) -> BTreeSet<Uuid> {
        member_values(self.members.as_ref().unwrap_or(&Value::Null))
            .unwrap_or_default()
            .into_iter()
            .collect()
    }
}

/// What a canonical group document writes.
pub(super) struct GroupWrite {
    display_name: String,
    external_id: Option<String>,
    pub members: BTreeSet<Uuid>,
}

impl GroupWrite {
    /// Reads a canonical document; read-only parts are ignored.
    pub fn from_doc(doc: &Value) -> Result<GroupWrite, ScimError> {
        let display_name = doc
            .get("displayName")
            .and_then(Value::as_str)
            .filter(|d| !d.trim().is_empty())
            .ok_or_else(|| ScimError::bad(ScimType::InvalidValue, "displayName is required"))?
            .to_owned();
        let members = member_values(doc.get("members").unwrap_or(&Value::Null))?
            .into_iter()
            .collect();
        Ok(GroupWrite {
            display_name,
            external_id: doc
                .get("externalId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            members,
        })
    }
}

/// The member ids of a `members` value; an id that is not a UUID cannot be
/// one of our users.
fn member_values(members: &Value) -> Result<Vec<Uuid>, ScimError> {
    let Some(list) = members.as_array() else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|m| {
            let value = m.get("value").and_then(Value::as_str).unwrap_or_default();
            Uuid::try_parse(value).map_err(|_| unknown_member(value))
        })
        .collect()
}

fn unknown_member(value: &str) -> ScimError {
    let shown: String = value.chars().take(64).collect();
    ScimError::bad(
        ScimType::InvalidValue,
        format!("member '{shown}' is not a user of this tenant"),
    )
}

/// Loads one group, locking it for a write when `for_update`.
pub(super) async fn load(
    tx: &mut TenantTx,
    id: Uuid,
    for_update: bool,
    with_members: bool,
) -> Result<Option<GroupRow>, ScimError> {
    let lock = if for_update { " for update of g" } else { "" };
    Ok(sqlx::query_as(&format!(
        "select {} from groups g where g.id = $1{lock}",
        columns(with_members)
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Inserts a new group with its members.
pub(super) async fn insert(tx: &mut TenantTx, id: Uuid, w: &GroupWrite) -> Result<(), ScimError> {
    sqlx::query(
        "insert into groups (tenant_id, id, display_name, display_name_normalized, external_id)
         values ($1, $2, $3, lower($3), $4)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(&w.display_name)
    .bind(&w.external_id)
    .execute(tx.conn())
    .await
    .map_err(store::constraint)?;
    change_members(tx, id, &w.members, &BTreeSet::new()).await
}

/// Overwrites a group's name and external id, and moves its members from
/// `before` to `w.members`.
pub(super) async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    w: &GroupWrite,
    before: &BTreeSet<Uuid>,
) -> Result<(), ScimError> {
    sqlx::query(
        "update groups set display_name = $2, display_name_normalized = lower($2), external_id = $3
         where id = $1 and (display_name, external_id) is distinct from ($2, $3)",
    )
    .bind(id)
    .bind(&w.display_name)
    .bind(&w.external_id)
    .execute(tx.conn())
    .await
    .map_err(store::constraint)?;
    let removed: Vec<Uuid> = before.difference(&w.members).copied().collect();
    if !removed.is_empty() {
        sqlx::query("delete from group_members where group_id = $1 and user_id = any($2)")
            .bind(id)
            .bind(&removed)
            .execute(tx.conn())
            .await?;
    }
    change_members(tx, id, &w.members, before).await
}

/// Adds the members of `after` not in `before`, refusing ids that are not
/// users of this tenant (another tenant's look exactly like missing ones).
async fn change_members(
    tx: &mut TenantTx,
    group: Uuid,
    after: &BTreeSet<Uuid>,
    before: &BTreeSet<Uuid>,
) -> Result<(), ScimError> {
    let added: Vec<Uuid> = after.difference(before).copied().collect();
    if added.is_empty() {
        return Ok(());
    }
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "insert into group_members (tenant_id, group_id, user_id)
         select $1, $2, u.id from users u where u.id = any($3)
         on conflict do nothing
         returning user_id",
    )
    .bind(tx.tenant().as_uuid())
    .bind(group)
    .bind(&added)
    .fetch_all(tx.conn())
    .await?;
    if inserted.len() < added.len() {
        let inserted: BTreeSet<Uuid> = inserted.into_iter().collect();
        let missing = added
            .iter()
            .find(|u| !inserted.contains(u))
            .map(Uuid::to_string)
            .unwrap_or_default();
        return Err(unknown_member(&missing));
    }
    Ok(())
}

/// Deletes a group; its grants go first (trigger) so members' tokens retire.
pub(super) async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<bool, ScimError> {
    let done = sqlx::query("delete from groups where id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}
