//! SCIM Users over the `users` table: the row as a SCIM document and a
//! canonical document (see `values`) back into a row. A SCIM user is a user
//! of the tenant like any other: SSO finds it, roles reach it, and the
//! deactivation trigger ends its sessions and tokens.

use chrono::{DateTime, Utc};
use prep_tenancy::TenantTx;
use serde_json::{json, Map, Value};
use uuid::Uuid;

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

use super::schema::{ENTERPRISE_USER, PREP_USER, USER};
use super::store::{self, rfc3339, version};
use super::{ScimError, ScimType};

/// Core attributes kept in `users.profile`.
const PROFILE: [&str; 7] = [
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
];

/// Selected for every user document. `locations` and `groups` come along
/// so a document costs one statement.
pub(super) const COLUMNS: &str = "u.id, u.user_name, u.external_id, u.display_name, u.active, \
    u.name, u.emails, u.phone_numbers, u.addresses, u.profile, u.enterprise, u.created_at, u.updated_at, \
    array(select l.store_number from user_locations ul \
          join locations l on l.tenant_id = ul.tenant_id and l.id = ul.location_id \
          where ul.tenant_id = u.tenant_id and ul.user_id = u.id order by l.store_number) as locations, \
    coalesce((select jsonb_agg(jsonb_build_object('value', g.id, 'display', g.display_name) \
                               order by g.display_name_normalized) \
              from group_members m join groups g on g.tenant_id = m.tenant_id and g.id = m.group_id \
              where m.tenant_id = u.tenant_id and m.user_id = u.id), '[]') as groups";

/// A user as read.
#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    pub id: Uuid,
    user_name: String,
    external_id: Option<String>,
    display_name: String,
    pub active: bool,
    name: Value,
    emails: Value,
    phone_numbers: Value,
    addresses: Value,
    profile: Value,
    enterprise: Value,
    created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    locations: Vec<String>,
    groups: Value,
}

impl UserRow {
    /// The SCIM document; `base` is the SCIM root URL.
    pub fn to_doc(&self, base: &str) -> Value {
        let mut doc = Map::new();
        let mut schemas = vec![json!(USER)];
        doc.insert("id".into(), json!(self.id));
        if let Some(e) = &self.external_id {
            doc.insert("externalId".into(), json!(e));
        }
        doc.insert("userName".into(), json!(self.user_name));
        put_object(&mut doc, "name", &self.name);
        if !self.display_name.is_empty() {
            doc.insert("displayName".into(), json!(self.display_name));
        }
        if let Value::Object(profile) = &self.profile {
            for (k, v) in profile {
                doc.insert(k.clone(), v.clone());
            }
        }
        doc.insert("active".into(), json!(self.active));
        put_array(&mut doc, "emails", &self.emails);
        put_array(&mut doc, "phoneNumbers", &self.phone_numbers);
        put_array(&mut doc, "addresses", &self.addresses);
        if let Value::Array(groups) = &self.groups {
            if !groups.is_empty() {
                let groups: Vec<Value> = groups
                    .iter()
                    .map(|g| {
                        let id = g["value"].as_str().unwrap_or_default();
                        json!({
                            "value": id,
                            "$ref": format!("{base}/Groups/{id}"),
                            "display": g["display"],
                            "type": "direct",
                        })
                    })
                    .collect();
                doc.insert("groups".into(), Value::Array(groups));
            }
        }
        if self.enterprise.as_object().is_some_and(|o| !o.is_empty()) {
            schemas.push(json!(ENTERPRISE_USER));
            doc.insert(ENTERPRISE_USER.into(), self.enterprise.clone());
        }
        if !self.locations.is_empty() {
            schemas.push(json!(PREP_USER));
            doc.insert(PREP_USER.into(), json!({ "locations": self.locations }));
        }
        doc.insert(
            "meta".into(),
            json!({
                "resourceType": "User",
                "created": rfc3339(self.created_at),
                "lastModified": rfc3339(self.updated_at),
                "location": format!("{base}/Users/{}", self.id),
                "version": version(self.updated_at),
            }),
        );
        doc.insert("schemas".into(), Value::Array(schemas));
        Value::Object(doc)
    }
}

fn put_object(doc: &mut Map<String, Value>, key: &str, value: &Value) {
    if value.as_object().is_some_and(|o| !o.is_empty()) {
        doc.insert(key.into(), value.clone());
    }
}

fn put_array(doc: &mut Map<String, Value>, key: &str, value: &Value) {
    if value.as_array().is_some_and(|a| !a.is_empty()) {
        doc.insert(key.into(), value.clone());
    }
}

/// What a canonical document writes.
pub(super) struct UserWrite {
    user_name: String,
    external_id: Option<String>,
    display_name: String,
    active: bool,
    email: String,
    name: Value,
    emails: Value,
    phone_numbers: Value,
    addresses: Value,
    profile: Value,
    enterprise: Value,
    pub locations: Vec<String>,
}

impl UserWrite {
    /// Reads a canonical document (as `values::canonical_resource` or the
    /// PATCH engine leave it); read-only parts are ignored.
    pub fn from_doc(doc: &Value, id: Uuid) -> Result<UserWrite, ScimError> {
        let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
        let user_name = text("userName")
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| ScimError::bad(ScimType::InvalidValue, "userName is required"))?;
        if user_name.chars().count() > 320 {
            return Err(ScimError::bad(
                ScimType::InvalidValue,
                "userName is longer than 320 characters",
            ));
        }
        let emails = doc.get("emails").cloned().unwrap_or_else(|| json!([]));
        let email = primary_email(&emails)
            .or_else(|| user_name.contains('@').then(|| user_name.clone()))
            .unwrap_or_else(|| format!("{id}@no-email.invalid"));
        let mut profile = Map::new();
        for key in PROFILE {
            if let Some(v) = doc.get(key) {
                profile.insert(key.into(), v.clone());
            }
        }
        let locations = doc
            .get(PREP_USER)
            .and_then(|p| p.get("locations"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(UserWrite {
            external_id: text("externalId"),
            display_name: text("displayName").unwrap_or_default(),
            active: doc.get("active").and_then(Value::as_bool).unwrap_or(true),
            email,
            name: doc.get("name").cloned().unwrap_or_else(|| json!({})),
            emails,
            phone_numbers: doc
                .get("phoneNumbers")
                .cloned()
                .unwrap_or_else(|| json!([])),
            addresses: doc.get("addresses").cloned().unwrap_or_else(|| json!([])),
            profile: Value::Object(profile),
            enterprise: doc
                .get(ENTERPRISE_USER)
                .cloned()
                .unwrap_or_else(|| json!({})),
            locations,
            user_name,
        })
    }

    /// Binds the written columns, in the order both statements list them.
    fn bind<'q>(&'q self, q: PgQuery<'q>) -> PgQuery<'q> {
        q.bind(&self.email)
            .bind(&self.user_name)
            .bind(&self.external_id)
            .bind(&self.display_name)
            .bind(self.active)
            .bind(&self.name)
            .bind(&self.emails)
            .bind(&self.phone_numbers)
            .bind(&self.addresses)
            .bind(&self.profile)
            .bind(&self.enterprise)
    }

    /// Whether the write deactivates or reactivates.
    pub fn active(&self) -> bool {
        self.active
    }
}

/// The primary e-mail, else the work one, else the first.
fn primary_email(emails: &Value) -> Option<String> {
    let list = emails.as_array()?;
    let pick = list
        .iter()
        .find(|e| e["primary"] == json!(true))
        .or_else(|| list.iter().find(|e| e["type"] == json!("work")))
        .or_else(|| list.first())?;
    pick["value"].as_str().map(str::to_owned)
}

/// Loads one user, locking it for a write when `for_update`.
pub(super) async fn load(
    tx: &mut TenantTx,
    id: Uuid,
    for_update: bool,
) -> Result<Option<UserRow>, ScimError> {
    let lock = if for_update { " for update of u" } else { "" };
    Ok(sqlx::query_as(&format!(
        "select {COLUMNS} from users u where u.id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Inserts a new user.
pub(super) async fn insert(tx: &mut TenantTx, id: Uuid, w: &UserWrite) -> Result<(), ScimError> {
    let insert = sqlx::query(
        "insert into users (tenant_id, id, email, email_normalized, user_name, external_id,
                            display_name, active, name, emails, phone_numbers, addresses, profile,
                            enterprise)
         values ($1, $2, $3, lower($3), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id);
    w.bind(insert)
        .execute(tx.conn())
        .await
        .map_err(store::constraint)?;
    if w.locations.is_empty() {
        return Ok(());
    }
    store::set_locations(tx, id, &w.locations).await
}

/// Overwrites a user with `w`.
pub(super) async fn update(tx: &mut TenantTx, id: Uuid, w: &UserWrite) -> Result<(), ScimError> {
    let update = sqlx::query(
        "update users set email = $2, email_normalized = lower($2), user_name = $3,
                external_id = $4, display_name = $5, active = $6, name = $7, emails = $8,
                phone_numbers = $9, addresses = $10, profile = $11, enterprise = $12
         where id = $1",
    )
    .bind(id);
    w.bind(update)
        .execute(tx.conn())
        .await
        .map_err(store::constraint)?;
    store::set_locations(tx, id, &w.locations).await
}

/// Deletes a user, leaving a tombstone (see migration 0008).
pub(super) async fn tombstone(tx: &mut TenantTx, id: Uuid) -> Result<bool, ScimError> {
    Ok(sqlx::query_scalar("select tombstone_user($1)")
        .bind(id)
        .fetch_one(tx.conn())
        .await?)
}
