//! Where each filterable SCIM User attribute lives in the tables of `0002_scim_users.sql`, for
//! `scim_sql::compile_filter`. Names match case-insensitively (RFC 7643 §2.1), with or without
//! their schema URN.

use scim::filter::AttributePath;
use scim::schema::{CUSTOM_FIELDS_SCHEMA_URN, is_custom_field_id};
use scim_sql::{Column, ColumnMap, ValueKind};

const CORE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The multi-valued attributes kept as rows of `scim_user_values`.
pub const MULTI_VALUED_USER_ATTRIBUTES: &[&str] = &[
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "entitlements",
    "roles",
    "x509Certificates",
    "addresses",
];

const CASE_INSENSITIVE: ValueKind = ValueKind::String { case_exact: false };
const CASE_EXACT: ValueKind = ValueKind::String { case_exact: true };

/// The column map of SCIM Users; the main table is aliased `u`.
pub struct ScimUserColumns;

fn scalar(expression: &str, kind: ValueKind, lowered: Option<&str>) -> Column {
    Column::Scalar {
        expression: expression.to_owned(),
        kind,
        lowered: lowered.map(str::to_owned),
    }
}

impl ColumnMap for ScimUserColumns {
    fn column(&self, path: &AttributePath) -> Option<Column> {
        let schema = path.schema_urn.as_deref().map(str::to_ascii_lowercase);
        let attribute = path.attribute.to_ascii_lowercase();
        let sub_attribute = path.sub_attribute.as_deref().map(str::to_ascii_lowercase);
        let in_core = schema
            .as_deref()
            .is_none_or(|urn| urn.eq_ignore_ascii_case(CORE_USER_SCHEMA));
        let in_enterprise = schema
            .as_deref()
            .is_some_and(|urn| urn.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA));
        if in_enterprise {
            return match (attribute.as_str(), sub_attribute.as_deref()) {
                ("employeenumber", None) => {
                    Some(scalar("u.employee_number", CASE_INSENSITIVE, None))
                }
                ("department", None) => Some(scalar("u.department", CASE_INSENSITIVE, None)),
                ("organization", None) => Some(scalar("u.organization", CASE_INSENSITIVE, None)),
                ("site", None) => Some(scalar("u.site", CASE_INSENSITIVE, None)),
                ("location", None) => Some(scalar("u.location", CASE_INSENSITIVE, None)),
                ("supportid", None) => Some(scalar("u.support_id", CASE_INSENSITIVE, None)),
                _ => None,
            };
        }
        if schema
            .as_deref()
            .is_some_and(|urn| urn.eq_ignore_ascii_case(CUSTOM_FIELDS_SCHEMA_URN))
        {
            return (sub_attribute.is_none() && is_custom_field_id(&attribute))
                .then(|| custom_field(&attribute));
        }
        if !in_core {
            return None;
        }
        match (attribute.as_str(), sub_attribute.as_deref()) {
            ("id", None) => Some(scalar("u.id", ValueKind::Identifier, None)),
            ("username", None) => Some(scalar(
                "u.user_name",
                CASE_INSENSITIVE,
                Some("u.user_name_key"),
            )),
            ("externalid", None) => Some(scalar("u.external_id", CASE_EXACT, None)),
            ("displayname", None) => Some(scalar(
                "u.display_name",
                CASE_INSENSITIVE,
                Some("u.display_name_key"),
            )),
            ("name", Some("givenname")) => Some(scalar("u.given_name", CASE_INSENSITIVE, None)),
            ("name", Some("familyname")) => Some(scalar(
                "u.family_name",
                CASE_INSENSITIVE,
                Some("u.family_name_key"),
            )),
            ("title", None) => Some(scalar("u.title", CASE_INSENSITIVE, None)),
            ("usertype", None) => Some(scalar("u.user_type", CASE_INSENSITIVE, None)),
            ("active", None) => Some(scalar("u.active", ValueKind::Boolean, None)),
            ("meta", Some("created")) => Some(scalar("u.created_at", ValueKind::DateTime, None)),
            ("meta", Some("lastmodified")) => {
                Some(scalar("u.updated_at", ValueKind::DateTime, None))
            }
            (multi_valued, None) => MULTI_VALUED_USER_ATTRIBUTES
                .iter()
                .find(|name| name.eq_ignore_ascii_case(multi_valued))
                .map(|name| Column::MultiValued {
                    table: "scim_user_values".to_owned(),
                    owner_column: "scim_user_id".to_owned(),
                    owner_expression: "u.id".to_owned(),
                    attribute_name: (*name).to_owned(),
                    sub_attributes: vec![
                        ("value".to_owned(), "value".to_owned(), CASE_INSENSITIVE),
                        ("type".to_owned(), "type".to_owned(), CASE_INSENSITIVE),
                        (
                            "primary".to_owned(),
                            "is_primary".to_owned(),
                            ValueKind::Boolean,
                        ),
                        ("display".to_owned(), "display".to_owned(), CASE_INSENSITIVE),
                    ],
                }),
            _ => None,
        }
    }
}

/// A custom field (`urn:…:4me:1.0:custom_fields:payroll_id`): its row of
/// `scim_user_custom_fields`, found through the primary key, as a scalar of the User, so `eq`,
/// `pr`, `ne` and `sortBy` mean what they mean for any single-valued string. `field` is a
/// lower-cased `is_custom_field_id` (ASCII letters, digits, `_`, `-`), so it is safe to paste
/// as a literal.
fn custom_field(field: &str) -> Column {
    let row = |column: &str| {
        format!(
            "(SELECT c.{column} FROM scim_user_custom_fields c \
             WHERE c.scim_user_id = u.id AND c.field = '{field}')"
        )
    };
    scalar(&row("value"), CASE_INSENSITIVE, Some(&row("value_key")))
}

const CORE_GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const GATEHOUSE_GROUP_SCHEMA: &str = "urn:gatehouse:params:scim:schemas:extension:2.0:Group";

const GROUP_TYPE: &str = "COALESCE(g.group_type_text, g.group_type)";

/// The column map of SCIM Groups; the main table is aliased `g`.
pub struct ScimGroupColumns;

impl ColumnMap for ScimGroupColumns {
    fn column(&self, path: &AttributePath) -> Option<Column> {
        let attribute = path.attribute.to_ascii_lowercase();
        let sub_attribute = path.sub_attribute.as_deref().map(str::to_ascii_lowercase);
        let schema = path.schema_urn.as_deref();
        // A type of Xurrent's that is none of ours is in `group_type_text` (migration 0020);
        // the core `groupType` and the extension's are one value.
        let group_type = || scalar(GROUP_TYPE, CASE_INSENSITIVE, None);
        if schema.is_some_and(|urn| urn.eq_ignore_ascii_case(GATEHOUSE_GROUP_SCHEMA)) {
            return (attribute == "grouptype" && sub_attribute.is_none()).then(group_type);
        }
        if !schema.is_none_or(|urn| urn.eq_ignore_ascii_case(CORE_GROUP_SCHEMA)) {
            return None;
        }
        match (attribute.as_str(), sub_attribute.as_deref()) {
            ("id", None) => Some(scalar("g.id", ValueKind::Identifier, None)),
            ("displayname", None) => Some(scalar(
                "g.display_name",
                CASE_INSENSITIVE,
                Some("g.display_name_key"),
            )),
            ("externalid", None) => Some(scalar("g.external_id", CASE_EXACT, None)),
            ("grouptype", None) => Some(group_type()),
            ("meta", Some("created")) => Some(scalar("g.created_at", ValueKind::DateTime, None)),
            ("meta", Some("lastmodified")) => {
                Some(scalar("g.updated_at", ValueKind::DateTime, None))
            }
            ("members", None) => Some(Column::MultiValued {
                table: "scim_group_members".to_owned(),
                owner_column: "group_id".to_owned(),
                owner_expression: "g.id".to_owned(),
                attribute_name: "members".to_owned(),
                sub_attributes: vec![
                    // Member ids compare as UUIDs, through the (group_id, member_id) key.
                    (
                        "value".to_owned(),
                        "member_id".to_owned(),
                        ValueKind::Identifier,
                    ),
                    ("type".to_owned(), "type".to_owned(), CASE_INSENSITIVE),
                ],
            }),
            _ => None,
        }
    }
}
