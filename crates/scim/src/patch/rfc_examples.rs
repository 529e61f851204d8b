//! The PATCH examples of RFC 7644 §3.5.2 (request bodies as the RFC prints them, with its
//! stray-brace typo fixed), applied to the RFC 7643 §8 example User and Group, together with
//! the rules those sections state in prose. If one of these fails, Gatehouse disagrees with
//! the standard rather than with a client's habit.

use serde_json::{Value, json};

use super::test_support::{ENTERPRISE, operations, patched, rejected};
use crate::error::ScimType;

const BABS: &str = "2819c223-7f76-453a-919d-413861904646";
const MANDY: &str = "902c246b-6245-4190-8e05-00816be7344a";
const JAMES: &str = "08e1d05d-121c-4561-8b96-473d93df9210";

/// RFC 7643 §8.2, trimmed to the attributes the examples touch.
fn bjensen() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "id": BABS,
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {
            "formatted": "Ms. Barbara J Jensen, III",
            "familyName": "Jensen",
            "givenName": "Barbara"
        },
        "displayName": "Babs Jensen",
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [
            {
                "type": "work",
                "streetAddress": "100 Universal City Plaza",
                "locality": "Hollywood",
                "region": "CA",
                "postalCode": "91608",
                "country": "USA",
                "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
                "primary": true
            },
            {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood"}
        ],
        "active": true,
        ENTERPRISE: {
            "employeeNumber": "701984",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        },
        "meta": {"resourceType": "User", "version": "W/\"3694e05e9dff591\""}
    })
}

/// RFC 7643 §8.4.
fn tour_guides() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Tour Guides",
        "members": [
            {
                "value": BABS,
                "$ref": format!("https://example.com/v2/Users/{BABS}"),
                "display": "Babs Jensen"
            },
            {
                "value": MANDY,
                "$ref": format!("https://example.com/v2/Users/{MANDY}"),
                "display": "Mandy Pepperidge"
            }
        ],
        "meta": {"resourceType": "Group"}
    })
}

fn james() -> Value {
    json!({
        "display": "James Smith",
        "$ref": format!("https://example.com/v2/Users/{JAMES}"),
        "value": JAMES
    })
}

fn member_ids(group: &Value) -> Vec<&str> {
    group["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .filter_map(|member| member["value"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

// §3.5.2.1 Add Operation

#[test]
fn add_a_member_to_a_group() {
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Tour Guides"});
    let result = patched(
        group,
        json!([{
            "op": "add",
            "path": "members",
            "value": [{
                "display": "Babs Jensen",
                "$ref": format!("https://example.com/v2/Users/{BABS}"),
                "value": BABS
            }]
        }]),
    );
    assert_eq!(member_ids(&result), [BABS]);
    assert_eq!(result["members"][0]["display"], "Babs Jensen");
}

#[test]
fn add_without_path_adds_each_attribute_of_the_value() {
    let user = json!({"userName": "bjensen", "emails": [{"value": "bjensen@example.com", "type": "work"}]});
    let result = patched(
        user,
        json!([{
            "op": "add",
            "value": {
                "emails": [{"value": "babs@jensen.org", "type": "home"}],
                "nickname": "Babs"
            }
        }]),
    );
    assert_eq!(
        result["emails"],
        json!([
            {"value": "bjensen@example.com", "type": "work"},
            {"value": "babs@jensen.org", "type": "home"}
        ])
    );
    assert_eq!(result["nickname"], "Babs");
}

#[test]
fn add_of_a_value_already_present_changes_nothing() {
    let result = patched(
        bjensen(),
        json!([{"op": "add", "value": {"emails": [{"value": "babs@jensen.org", "type": "home"}]}}]),
    );
    assert_eq!(result, bjensen());
}

#[test]
fn add_to_a_single_valued_attribute_replaces_its_value() {
    let result = patched(
        bjensen(),
        json!([{"op": "add", "path": "displayName", "value": "Babs"}]),
    );
    assert_eq!(result["displayName"], "Babs");
}

#[test]
fn add_to_a_complex_attribute_sets_the_given_sub_attributes() {
    let result = patched(
        bjensen(),
        json!([{"op": "add", "path": "name", "value": {"middleName": "Jane", "givenName": "Babs"}}]),
    );
    assert_eq!(
        result["name"],
        json!({
            "formatted": "Ms. Barbara J Jensen, III",
            "familyName": "Jensen",
            "givenName": "Babs",
            "middleName": "Jane"
        })
    );
}

// §3.5.2.2 Remove Operation

#[test]
fn remove_a_single_member_by_filter() {
    let result = patched(
        tour_guides(),
        json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"]")}]),
    );
    assert_eq!(member_ids(&result), [MANDY]);
}

#[test]
fn remove_all_members() {
    let result = patched(tour_guides(), json!([{"op": "remove", "path": "members"}]));
    assert!(result.get("members").is_none());
}

#[test]
fn remove_multi_valued_values_matching_a_complex_filter() {
    let result = patched(
        bjensen(),
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
    );
    assert_eq!(
        result["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
}

#[test]
fn remove_one_member_and_add_another() {
    // As printed in RFC 7644 §3.5.2.2, without a space between `eq` and the string.
    let result = patched(
        tour_guides(),
        json!([
            {"op": "remove", "path": format!("members[value eq\"{BABS}\"]")},
            {"op": "add", "path": "members", "value": [james()]}
        ]),
    );
    assert_eq!(member_ids(&result), [MANDY, JAMES]);
}

#[test]
fn remove_all_members_then_add_new_ones() {
    let babs = json!({
        "display": "Babs Jensen",
        "$ref": format!("https://example.com/v2/Users/{BABS}"),
        "value": BABS
    });
    let result = patched(
        tour_guides(),
        json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [babs, james()]}
        ]),
    );
    assert_eq!(member_ids(&result), [BABS, JAMES]);
}

#[test]
fn remove_a_single_valued_attribute_unassigns_it() {
    let result = patched(bjensen(), json!([{"op": "remove", "path": "displayName"}]));
    assert!(result.get("displayName").is_none());
}

#[test]
fn remove_a_sub_attribute_of_a_complex_attribute() {
    let result = patched(
        bjensen(),
        json!([{"op": "remove", "path": "name.formatted"}]),
    );
    assert_eq!(
        result["name"],
        json!({"familyName": "Jensen", "givenName": "Barbara"})
    );
}

#[test]
fn remove_a_sub_attribute_of_filtered_values() {
    let result = patched(
        bjensen(),
        json!([{"op": "remove", "path": "addresses[type eq \"work\"].formatted"}]),
    );
    assert!(result["addresses"][0].get("formatted").is_none());
    assert_eq!(result["addresses"][1], bjensen()["addresses"][1]);
}

#[test]
fn remove_without_a_path_is_no_target() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove"}]
    });
    let error = super::request::parse_patch_request(body).unwrap_err();
    assert_eq!(error.scim_type, Some(ScimType::NoTarget));
}

#[test]
fn remove_of_a_read_only_attribute_is_a_mutability_error() {
    let error = rejected(bjensen(), json!([{"op": "remove", "path": "id"}]));
    error.assert_mentions(ScimType::Mutability, "\"id\" is read-only");
}

// §3.5.2.3 Replace Operation

#[test]
fn replace_all_members_with_a_different_list() {
    let babs = json!({"display": "Babs Jensen", "value": BABS});
    let result = patched(
        tour_guides(),
        json!([{"op": "replace", "path": "members", "value": [babs, james()]}]),
    );
    assert_eq!(member_ids(&result), [BABS, JAMES]);
    assert!(
        result["members"][0].get("$ref").is_none(),
        "replaced values are not merged"
    );
}

#[test]
fn replace_a_whole_value_selected_by_a_filter() {
    let new_work_address = json!({
        "type": "work",
        "streetAddress": "911 Universal City Plaza",
        "locality": "Hollywood",
        "region": "CA",
        "postalCode": "91608",
        "country": "US",
        "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
        "primary": true
    });
    let result = patched(
        bjensen(),
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": new_work_address}]),
    );
    assert_eq!(result["addresses"][0], new_work_address);
    assert_eq!(result["addresses"][1], bjensen()["addresses"][1]);
}

#[test]
fn replace_a_sub_attribute_of_a_value_selected_by_a_filter() {
    let result = patched(
        bjensen(),
        json!([{
            "op": "replace",
            "path": "addresses[type eq \"work\"].streetAddress",
            "value": "1010 Broadway Ave"
        }]),
    );
    assert_eq!(result["addresses"][0]["streetAddress"], "1010 Broadway Ave");
    assert_eq!(result["addresses"][0]["locality"], "Hollywood");
}

#[test]
fn replace_without_path_replaces_each_attribute_of_the_value() {
    let result = patched(
        bjensen(),
        json!([{
            "op": "replace",
            "value": {
                "emails": [
                    {"value": "bjensen@example.com", "type": "work", "primary": true},
                    {"value": "babs@jensen.org", "type": "home"}
                ],
                "nickname": "Babs"
            }
        }]),
    );
    assert_eq!(result["emails"], bjensen()["emails"]);
    assert_eq!(result["nickname"], "Babs");
}

#[test]
fn replace_of_a_multi_valued_attribute_drops_the_old_values() {
    let result = patched(
        bjensen(),
        json!([{"op": "replace", "path": "emails", "value": [{"value": "new@example.com"}]}]),
    );
    assert_eq!(result["emails"], json!([{"value": "new@example.com"}]));
}

#[test]
fn replace_of_a_complex_attribute_leaves_unnamed_sub_attributes_unchanged() {
    let result = patched(
        bjensen(),
        json!([{"op": "replace", "path": "name", "value": {"givenName": "Babs"}}]),
    );
    assert_eq!(result["name"]["givenName"], "Babs");
    assert_eq!(result["name"]["familyName"], "Jensen");
}

#[test]
fn replace_of_an_unassigned_attribute_adds_it() {
    let result = patched(
        bjensen(),
        json!([{"op": "replace", "path": "title", "value": "Tour Guide"}]),
    );
    assert_eq!(result["title"], "Tour Guide");
}

#[test]
fn replace_with_a_filter_that_matches_nothing_is_no_target() {
    let error = rejected(
        bjensen(),
        json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x@y.z"}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::NoTarget));
    assert_eq!(error.status, 400);
}

#[test]
fn replace_of_a_read_only_attribute_is_a_mutability_error() {
    let error = rejected(
        bjensen(),
        json!([{"op": "replace", "path": "meta.version", "value": "W/\"1\""}]),
    );
    assert_eq!(error.scim_type, Some(ScimType::Mutability));
}

// §3.5.2: "each operation ... applied sequentially ... if any fails, the whole request fails".

#[test]
fn a_failing_operation_leaves_the_resource_unchanged() {
    let error = rejected(
        bjensen(),
        json!([
            {"op": "replace", "path": "displayName", "value": "Changed"},
            {"op": "remove", "path": "emails[type eq \"work\"]"},
            {"op": "replace", "path": "id", "value": "other"},
            {"op": "add", "path": "title", "value": "never applied"}
        ]),
    );
    error.assert_names_operation(ScimType::Mutability, 2);
}

#[test]
fn operations_apply_in_order() {
    let result = patched(
        bjensen(),
        json!([
            {"op": "replace", "path": "title", "value": "First"},
            {"op": "remove", "path": "title"},
            {"op": "add", "path": "title", "value": "Last"}
        ]),
    );
    assert_eq!(result["title"], "Last");
}

#[test]
fn rfc_request_bodies_parse_with_the_operations_they_show() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "add", "path": "members", "value": [james()]},
            {"op": "remove", "path": format!("members[value eq \"{BABS}\"]")},
            {"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}
        ]
    });
    assert_eq!(operations(body).len(), 3);
}
