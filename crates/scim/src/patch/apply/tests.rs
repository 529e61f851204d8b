//! Tests for `apply.rs` beyond the RFC examples and client habits: where schema-URN keys
//! land, how lists accept lone values, and what happens when a filter selects nothing.

use serde_json::{Value, json};

use crate::error::ScimType;
use crate::patch::test_support::{ENTERPRISE, patched, rejected};

const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn user() -> Value {
    json!({
        "schemas": [CORE_USER, ENTERPRISE],
        "userName": "bjensen",
        "emails": [{"value": "a@example.com", "type": "work"}],
        ENTERPRISE: {"employeeNumber": "701984", "department": "Tour Operations"}
    })
}

#[test]
fn a_core_schema_object_in_a_path_less_value_sets_top_level_attributes() {
    let result = patched(
        user(),
        json!([{"op": "replace", "value": {CORE_USER: {"displayName": "Babs", "name.givenName": "Barbara"}}}]),
    );
    assert_eq!(result["displayName"], "Babs");
    assert_eq!(result["name"], json!({"givenName": "Barbara"}));
}

#[test]
fn a_null_extension_in_a_path_less_value_removes_the_extension() {
    let result = patched(
        user(),
        json!([{"op": "replace", "value": {ENTERPRISE: null}}]),
    );
    assert!(result.get(ENTERPRISE).is_none());
    assert_eq!(result["schemas"], json!([CORE_USER]));
}

#[test]
fn an_extension_value_that_is_not_an_object_is_invalid() {
    let error = rejected(user(), json!([{"op": "add", "value": {ENTERPRISE: "x"}}]));
    assert_eq!(error.scim_type, Some(ScimType::InvalidValue));
    let error = rejected(
        user(),
        json!([{"op": "add", "path": ENTERPRISE, "value": ["x"]}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn attributes_inside_an_extension_object_may_not_name_a_schema_again() {
    let error = rejected(
        user(),
        json!([{"op": "add", "value": {ENTERPRISE: {format!("{CORE_USER}:title"): "x"}}}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::InvalidPath));
}

#[test]
fn invalid_attribute_names_in_a_path_less_value_are_invalid_paths() {
    let error = rejected(user(), json!([{"op": "add", "value": {"not valid": "x"}}]));
    error.assert_mentions(ScimType::InvalidPath, "not valid");
}

#[test]
fn an_extension_listed_in_schemas_is_recognised_whatever_its_shape() {
    let custom = "urn:acme:badges";
    let resource = json!({"schemas": [CORE_USER, custom], custom: {"level": "gold"}});
    let result = patched(
        resource,
        json!([{"op": "replace", "path": format!("{custom}:level"), "value": "platinum"}]),
    );
    assert_eq!(result[custom], json!({"level": "platinum"}));
}

#[test]
fn removing_from_an_absent_extension_does_nothing() {
    let resource = json!({"schemas": [CORE_USER], "userName": "bjensen"});
    let result = patched(
        resource.clone(),
        json!([{"op": "remove", "path": format!("{ENTERPRISE}:department")}]),
    );
    assert_eq!(result, resource);
}

#[test]
fn a_lone_value_added_to_a_multi_valued_attribute_is_appended() {
    let result = patched(
        user(),
        json!([{"op": "add", "path": "emails", "value": {"value": "b@example.com", "type": "home"}}]),
    );
    assert_eq!(
        result["emails"][1],
        json!({"value": "b@example.com", "type": "home"})
    );
}

#[test]
fn duplicate_values_in_one_add_are_stored_once() {
    let result = patched(
        json!({"displayName": "Group"}),
        json!([{"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "a", "display": "A"}]}]),
    );
    assert_eq!(result["members"], json!([{"value": "a", "display": "A"}]));
}

#[test]
fn remove_with_a_filter_that_selects_nothing_changes_nothing() {
    let result = patched(
        user(),
        json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
    );
    assert_eq!(result, user());
}

#[test]
fn add_with_a_filter_and_no_sub_attribute_merges_into_selected_values() {
    let result = patched(
        user(),
        json!([{"op": "add", "path": "emails[type eq \"work\"]", "value": {"display": "Work"}}]),
    );
    assert_eq!(
        result["emails"],
        json!([{"value": "a@example.com", "type": "work", "display": "Work"}])
    );
}

#[test]
fn replacing_a_multi_valued_attribute_with_an_empty_list_unassigns_it() {
    let result = patched(
        user(),
        json!([{"op": "replace", "path": "emails", "value": []}]),
    );
    assert!(result.get("emails").is_none());
}

#[test]
fn replacing_a_sub_attribute_of_every_value_without_a_filter() {
    let result = patched(
        user(),
        json!([{"op": "replace", "path": "emails.type", "value": "other"}]),
    );
    assert_eq!(
        result["emails"],
        json!([{"value": "a@example.com", "type": "other"}])
    );
}

#[test]
fn emptying_a_complex_attribute_unassigns_it() {
    let resource = json!({"name": {"givenName": "Barbara"}});
    let result = patched(
        resource,
        json!([{"op": "remove", "path": "name.givenName"}]),
    );
    assert_eq!(result, json!({}));
}
