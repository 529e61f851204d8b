//! PATCH requests as real provisioning clients send them, where they stretch RFC 7644:
//! Microsoft Entra ID (capitalised `op`s, dotted and schema-qualified keys in path-less
//! values, `"True"`/`"False"` strings for booleans, member removal by value list, the
//! enterprise `manager` as a bare id, adds through value filters) and Okta (path-less
//! `replace` of `active`, echoing `id`). Each test names the client whose habit it keeps.

use serde_json::{Value, json};

use super::test_support::{ENTERPRISE, patched, rejected};
use crate::error::ScimType;

fn entra_user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "6c9c5e9a-1a2b-4c3d-9e8f-0a1b2c3d4e5f",
        "userName": "ada@example.org",
        "active": true,
        "displayName": "Ada",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": "ada@example.org", "type": "work", "primary": true}]
    })
}

#[test]
fn entra_path_less_replace_with_dotted_and_schema_qualified_keys() {
    let result = patched(
        entra_user(),
        json!([{
            "op": "Replace",
            "value": {
                "displayName": "Ada King",
                "name.familyName": "King",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42",
                "urn:ietf:params:scim:schemas:core:2.0:User:title": "Countess"
            }
        }]),
    );
    assert_eq!(result["displayName"], "Ada King");
    assert_eq!(
        result["name"],
        json!({"givenName": "Ada", "familyName": "King"})
    );
    assert_eq!(result[ENTERPRISE], json!({"employeeNumber": "42"}));
    assert_eq!(result["title"], "Countess");
    assert_eq!(
        result["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]),
        "a new extension is listed in schemas"
    );
}

#[test]
fn entra_boolean_strings_become_booleans() {
    let result = patched(
        entra_user(),
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    );
    assert_eq!(result["active"], json!(false));
    let result = patched(
        entra_user(),
        json!([{"op": "Replace", "value": {"active": "False"}}]),
    );
    assert_eq!(result["active"], json!(false));
    let result = patched(
        result,
        json!([{"op": "Add", "path": "ACTIVE", "value": "true"}]),
    );
    assert_eq!(result["active"], json!(true));
}

#[test]
fn boolean_strings_are_left_alone_for_string_attributes() {
    let result = patched(
        entra_user(),
        json!([{"op": "Replace", "path": "title", "value": "True"}]),
    );
    assert_eq!(result["title"], "True");
}

#[test]
fn entra_primary_string_is_coerced_and_demotes_the_other_primary() {
    let result = patched(
        entra_user(),
        json!([
            {"op": "Add", "path": "emails[type eq \"home\"].value", "value": "ada@home.example"},
            {"op": "Replace", "path": "emails[type eq \"home\"].primary", "value": "True"}
        ]),
    );
    assert_eq!(
        result["emails"],
        json!([
            {"value": "ada@example.org", "type": "work", "primary": false},
            {"value": "ada@home.example", "type": "home", "primary": true}
        ])
    );
}

#[test]
fn entra_add_through_a_filter_creates_the_first_value() {
    let result = patched(
        json!({"userName": "ada"}),
        json!([
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+44 20 7946 0000"},
            {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "London"},
            {"op": "Add", "path": "addresses[type eq \"work\"].country", "value": "GB"}
        ]),
    );
    assert_eq!(
        result["phoneNumbers"],
        json!([{"type": "mobile", "value": "+44 20 7946 0000"}])
    );
    assert_eq!(
        result["addresses"],
        json!([{"type": "work", "locality": "London", "country": "GB"}])
    );
}

#[test]
fn entra_removes_listed_members_only() {
    let group = json!({"displayName": "Engineers", "members": [{"value": "a"}, {"value": "b"}, {"value": "c"}]});
    let result = patched(
        group,
        json!([{"op": "Remove", "path": "members", "value": [{"value": "a"}, {"value": "c"}]}]),
    );
    assert_eq!(result["members"], json!([{"value": "b"}]));
}

#[test]
fn entra_replaces_the_whole_member_list() {
    let group = json!({"displayName": "Engineers", "members": [{"value": "a"}, {"value": "b"}]});
    let result = patched(
        group,
        json!([{"op": "Replace", "path": "members", "value": [{"value": "c"}, {"value": "d"}]}]),
    );
    assert_eq!(result["members"], json!([{"value": "c"}, {"value": "d"}]));
}

#[test]
fn entra_manager_sent_as_a_bare_id_is_stored_as_a_reference() {
    let manager_path = format!("{ENTERPRISE}:manager");
    let result = patched(
        entra_user(),
        json!([{"op": "Add", "path": manager_path, "value": "26118915-6090-4610-87e4-49d8ca9f808d"}]),
    );
    assert_eq!(
        result[ENTERPRISE]["manager"],
        json!({"value": "26118915-6090-4610-87e4-49d8ca9f808d"})
    );
    let result = patched(
        result,
        json!([{"op": "Replace", "path": manager_path, "value": ""}]),
    );
    assert!(
        result.get(ENTERPRISE).is_none(),
        "an empty manager id clears it"
    );
}

#[test]
fn entra_removes_the_manager_and_keeps_other_enterprise_attributes() {
    let mut user = entra_user();
    user[ENTERPRISE] = json!({"employeeNumber": "42", "manager": {"value": "m"}});
    let result = patched(
        user,
        json!([{"op": "Remove", "path": format!("{ENTERPRISE}:manager")}]),
    );
    assert_eq!(result[ENTERPRISE], json!({"employeeNumber": "42"}));
}

#[test]
fn removing_the_last_extension_attribute_drops_the_extension_and_its_schema() {
    let mut user = entra_user();
    user["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]);
    user[ENTERPRISE] = json!({"employeeNumber": "42"});
    let result = patched(
        user,
        json!([{"op": "Remove", "path": format!("{ENTERPRISE}:employeeNumber")}]),
    );
    assert_eq!(result, entra_user());
}

#[test]
fn entra_path_less_value_with_an_extension_object() {
    let mut user = entra_user();
    user[ENTERPRISE] = json!({"employeeNumber": "42"});
    let result = patched(
        user,
        json!([{"op": "Add", "value": {ENTERPRISE: {"department": "Analytical Engines"}}}]),
    );
    assert_eq!(
        result[ENTERPRISE],
        json!({"employeeNumber": "42", "department": "Analytical Engines"})
    );
}

#[test]
fn a_path_naming_a_whole_extension_sets_or_removes_it() {
    let result = patched(
        entra_user(),
        json!([{"op": "Replace", "path": ENTERPRISE, "value": {"costCenter": "4130"}}]),
    );
    assert_eq!(result[ENTERPRISE], json!({"costCenter": "4130"}));
    let result = patched(result, json!([{"op": "Remove", "path": ENTERPRISE}]));
    assert_eq!(result, entra_user());
}

#[test]
fn entra_capitalised_paths_reach_the_stored_attributes() {
    let result = patched(
        entra_user(),
        json!([
            {"op": "Replace", "path": "DisplayName", "value": "Ada King"},
            {"op": "Replace", "path": "Emails[Type eq \"WORK\"].Value", "value": "ada@king.example"},
            {"op": "Replace", "path": "NAME.GIVENNAME", "value": "Augusta"}
        ]),
    );
    assert_eq!(result["displayName"], "Ada King");
    assert!(
        result.get("DisplayName").is_none(),
        "the stored spelling is kept"
    );
    assert_eq!(result["emails"][0]["value"], "ada@king.example");
    assert_eq!(result["name"]["givenName"], "Augusta");
}

#[test]
fn entra_quoted_path_is_unwrapped() {
    let result = patched(
        entra_user(),
        json!([{"op": "Replace", "path": "\"displayName\"", "value": "Ada King"}]),
    );
    assert_eq!(result["displayName"], "Ada King");
}

#[test]
fn core_schema_qualified_paths_address_top_level_attributes() {
    let result = patched(
        entra_user(),
        json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:userName", "value": "ada.king"}]),
    );
    assert_eq!(result["userName"], "ada.king");
}

#[test]
fn okta_path_less_replace_deactivates_a_user() {
    let result = patched(
        entra_user(),
        json!([{"op": "replace", "value": {"active": false}}]),
    );
    assert_eq!(result["active"], json!(false));
}

#[test]
fn okta_may_restate_read_only_id_but_not_change_it() {
    let id = entra_user()["id"].clone();
    let result = patched(
        entra_user(),
        json!([{"op": "replace", "value": {"id": id, "displayName": "Ada King"}}]),
    );
    assert_eq!(result["displayName"], "Ada King");
    let error = rejected(
        entra_user(),
        json!([{"op": "replace", "value": {"displayName": "Ada King", "id": "other"}}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::Mutability));
}

#[test]
fn read_only_sub_attributes_cannot_be_changed() {
    let mut user = entra_user();
    user[ENTERPRISE] = json!({"manager": {"value": "m", "displayName": "Boss"}});
    let error = rejected(
        user.clone(),
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:manager.displayName"), "value": "Me"}]),
    );
    error.assert_mentions(ScimType::Mutability, "manager.displayName");
    let result = patched(
        user,
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:manager"), "value": {"value": "n"}}]),
    );
    assert_eq!(
        result[ENTERPRISE]["manager"],
        json!({"value": "n", "displayName": "Boss"})
    );
}

#[test]
fn unknown_schemas_are_invalid_paths() {
    let error = rejected(
        entra_user(),
        json!([{"op": "add", "path": "urn:acme:thing:color", "value": "red"}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::InvalidPath));
}

#[test]
fn a_filter_on_a_single_valued_attribute_is_an_invalid_path() {
    let error = rejected(
        entra_user(),
        json!([{"op": "replace", "path": "name[givenName eq \"Ada\"]", "value": {}}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::InvalidPath));
    let error = rejected(
        entra_user(),
        json!([{"op": "remove", "path": "name[givenName eq \"Ada\"]"}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::InvalidPath));
}

#[test]
fn a_sub_attribute_of_a_simple_attribute_is_an_invalid_path() {
    let error = rejected(
        entra_user(),
        json!([{"op": "add", "path": "displayName.first", "value": "A"}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::InvalidPath));
}

#[test]
fn null_values_unassign_attributes() {
    let result = patched(
        entra_user(),
        json!([{"op": "replace", "value": {"displayName": null, "name": {"familyName": null}}}]),
    );
    assert!(result.get("displayName").is_none());
    assert_eq!(result["name"], json!({"givenName": "Ada"}));
}

#[test]
fn invalid_filter_operators_in_paths_fail_at_apply_time() {
    let error = rejected(
        entra_user(),
        json!([{"op": "remove", "path": "emails[primary gt true]"}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::InvalidFilter));
}

#[test]
fn non_object_resources_are_rejected_as_internal_errors() {
    let mut resource = json!(["not", "a", "resource"]);
    let operations = super::test_support::request(json!([{"op": "remove", "path": "title"}]));
    let error =
        super::apply_operations(&mut resource, &operations, &super::test_support::TestRules)
            .unwrap_err();
    assert_eq!(error.status, 500);
}
