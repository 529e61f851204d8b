//! Tests for `multi_valued.rs`: list merging, value selection by filter, and `primary`.

use super::*;
use crate::error::ScimType;
use crate::filter::{FilterLimits, parse_value_filter_with};
use crate::patch::test_support::TestRules;
use serde_json::json;

fn container(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(members) => members,
        other => panic!("expected an object, got {other}"),
    }
}

fn filter(text: &str) -> Filter {
    parse_value_filter_with(text, &FilterLimits::default()).unwrap()
}

fn with<T>(name: &str, action: impl FnOnce(&MultiValued<'_>) -> T) -> T {
    let attribute = AttributePath::parse(name).unwrap();
    action(&MultiValued {
        attribute: &attribute,
        rules: &TestRules,
    })
}

/// `add` of `values` to `attribute` of `resource`, which must succeed.
fn added(resource: Value, attribute: &str, values: Vec<Value>) -> Map<String, Value> {
    let mut resource = container(resource);
    with(attribute, |list| list.add(&mut resource, values)).unwrap();
    resource
}

/// `set_selected` on `attribute`'s values that `selection` (a value filter) selects.
fn set_selected(
    resource: &mut Map<String, Value>,
    attribute: &str,
    kind: PatchOpKind,
    selection: &str,
    sub_attribute: Option<&str>,
    value: Value,
) -> Result<(), ScimError> {
    with(attribute, |values| {
        values.set_selected(
            resource,
            kind,
            Some(&filter(selection)),
            sub_attribute,
            value,
        )
    })
}

#[test]
fn add_appends_new_values_and_merges_existing_ones_by_value() {
    let user = added(
        json!({"emails": [{"value": "a@x.org", "type": "work"}]}),
        "emails",
        vec![
            json!({"value": "A@X.org", "display": "A"}),
            json!({"value": "b@x.org", "type": "home"}),
        ],
    );
    assert_eq!(
        user["emails"],
        json!([
            {"value": "A@X.org", "type": "work", "display": "A"},
            {"value": "b@x.org", "type": "home"},
        ])
    );
}

#[test]
fn case_exact_values_differing_in_case_are_different_values() {
    let group = added(
        json!({"members": [{"value": "abc"}]}),
        "members",
        vec![json!({"value": "ABC"})],
    );
    assert_eq!(
        group["members"],
        json!([{"value": "abc"}, {"value": "ABC"}])
    );
}

#[test]
fn values_without_a_value_sub_attribute_compare_whole() {
    let user = added(
        json!({"roles": [{"display": "Admin"}]}),
        "roles",
        vec![json!({"display": "Admin"}), json!({"display": "Dev"})],
    );
    assert_eq!(
        user["roles"],
        json!([{"display": "Admin"}, {"display": "Dev"}])
    );
}

#[test]
fn simple_multi_valued_attributes_dedupe_their_values() {
    let user = added(
        json!({"schemas": ["urn:a:User"]}),
        "schemas",
        vec![json!("URN:A:User"), json!("urn:b:Ext")],
    );
    assert_eq!(user["schemas"], json!(["urn:a:User", "urn:b:Ext"]));
}

#[test]
fn a_new_primary_value_demotes_the_old_one() {
    let user = added(
        json!({"emails": [{"value": "a@x.org", "primary": true}]}),
        "emails",
        vec![json!({"value": "b@x.org", "primary": true})],
    );
    assert_eq!(
        user["emails"],
        json!([{"value": "a@x.org", "primary": false}, {"value": "b@x.org", "primary": true}])
    );
}

#[test]
fn two_primary_values_in_one_request_are_invalid() {
    let mut user = container(json!({}));
    let error = with("emails", |emails| {
        emails.replace(
            &mut user,
            vec![
                json!({"value": "a", "primary": true}),
                json!({"value": "b", "primary": true}),
            ],
        )
    })
    .unwrap_err();
    assert_eq!(error.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn replace_of_selected_sub_attribute_leaves_other_values_alone() {
    let mut user = container(json!({"emails": [
        {"value": "a@x.org", "type": "work"}, {"value": "b@x.org", "type": "home"}
    ]}));
    set_selected(
        &mut user,
        "emails",
        PatchOpKind::Replace,
        r#"type eq "work""#,
        Some("value"),
        json!("c@x.org"),
    )
    .unwrap();
    assert_eq!(
        user["emails"][0],
        json!({"value": "c@x.org", "type": "work"})
    );
    assert_eq!(
        user["emails"][1],
        json!({"value": "b@x.org", "type": "home"})
    );
}

#[test]
fn replace_selecting_nothing_is_no_target_and_keeps_the_values() {
    let mut user = container(json!({"emails": [{"value": "a@x.org", "type": "home"}]}));
    let error = set_selected(
        &mut user,
        "emails",
        PatchOpKind::Replace,
        r#"type eq "work""#,
        Some("value"),
        json!("c@x.org"),
    )
    .unwrap_err();
    assert_eq!(error.scim_type, Some(ScimType::NoTarget));
    assert_eq!(
        user["emails"],
        json!([{"value": "a@x.org", "type": "home"}])
    );
}

#[test]
fn add_selecting_nothing_creates_the_value_the_filter_describes() {
    let mut user = container(json!({}));
    set_selected(
        &mut user,
        "phoneNumbers",
        PatchOpKind::Add,
        r#"type eq "mobile" and primary eq true"#,
        Some("value"),
        json!("+1 555 0100"),
    )
    .unwrap();
    assert_eq!(
        user["phoneNumbers"],
        json!([{"type": "mobile", "primary": true, "value": "+1 555 0100"}])
    );
}

#[test]
fn add_selecting_nothing_with_a_non_equality_filter_is_no_target() {
    let mut user = container(json!({}));
    let error = set_selected(
        &mut user,
        "emails",
        PatchOpKind::Add,
        r#"type ne "work""#,
        Some("value"),
        json!("a@x.org"),
    )
    .unwrap_err();
    assert_eq!(error.scim_type, Some(ScimType::NoTarget));
}

#[test]
fn replacing_selected_values_with_null_removes_them() {
    let mut user = container(json!({"emails": [{"value": "a", "type": "work"}]}));
    set_selected(
        &mut user,
        "emails",
        PatchOpKind::Replace,
        r#"type eq "work""#,
        None,
        Value::Null,
    )
    .unwrap();
    assert!(user.get("emails").is_none());
}

#[test]
fn remove_selected_values_or_their_sub_attribute() {
    let mut user = container(json!({"emails": [
        {"value": "a", "type": "work", "display": "A"}, {"value": "b", "type": "home"}
    ]}));
    with("emails", |emails| {
        emails.remove_selected(
            &mut user,
            Some(&filter(r#"type eq "work""#)),
            Some("display"),
        )
    })
    .unwrap();
    assert_eq!(user["emails"][0], json!({"value": "a", "type": "work"}));
    with("emails", |emails| {
        emails.remove_selected(&mut user, Some(&filter(r#"type eq "home""#)), None)
    })
    .unwrap();
    assert_eq!(user["emails"], json!([{"value": "a", "type": "work"}]));
    with("emails", |emails| {
        emails.remove_selected(&mut user, Some(&filter("type pr")), None)
    })
    .unwrap();
    assert!(
        user.get("emails").is_none(),
        "no values left means unassigned"
    );
}

#[test]
fn remove_listed_drops_only_the_listed_values() {
    let mut group = container(json!({"members": [{"value": "1"}, {"value": "2"}, {"value": "3"}]}));
    with("members", |members| {
        members.remove_listed(
            &mut group,
            vec![json!({"value": "1"}), json!({"value": "3"})],
        );
    });
    assert_eq!(group["members"], json!([{"value": "2"}]));
}

#[test]
fn stored_spelling_of_the_attribute_is_kept() {
    let user = added(
        json!({"Emails": [{"value": "a"}]}),
        "emails",
        vec![json!({"value": "b"})],
    );
    assert_eq!(user["Emails"], json!([{"value": "a"}, {"value": "b"}]));
    assert!(user.get("emails").is_none());
}
