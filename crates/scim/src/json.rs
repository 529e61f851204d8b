//! Reading a SCIM request body as JSON, strictly. `serde_json::Value` keeps the last of two
//! members with the same name, so `{"active": true, "active": false}` would mean whatever the
//! last one says — and a proxy or a log that reads the first one would disagree with us about
//! what was asked. SCIM attribute names are case-insensitive (RFC 7643 §2.1), so
//! `{"userName": "a", "USERNAME": "b"}` is the same ambiguity. Both are refused, at any depth,
//! as RFC 8259 §4 allows ("names within an object SHOULD be unique").

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::ScimError;

/// Parses `body` as one JSON value, refusing an object that names a member twice (ignoring
/// ASCII case) with `400 invalidSyntax`.
pub fn parse_body(body: &[u8]) -> Result<Value, ScimError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = StrictValue::deserialize(&mut deserializer)
        .and_then(|StrictValue(value)| deserializer.end().map(|()| value))
        .map_err(|error| {
            ScimError::invalid_syntax(format!("the body is not valid JSON: {error}"))
        })?;
    Ok(value)
}

/// A `Value` whose objects were checked for repeated member names while being read.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // serde_json never hands a non-finite number to a visitor, so this is never Null.
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(sequence.size_hint().unwrap_or(0).min(1024));
        while let Some(StrictValue(item)) = sequence.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(name) = members.next_key::<String>()? {
            if let Some(earlier) = object
                .keys()
                .find(|earlier| earlier.eq_ignore_ascii_case(&name))
            {
                return Err(de::Error::custom(if *earlier == name {
                    format!("the member `{name}` appears twice in one object")
                } else {
                    format!(
                        "the members `{earlier}` and `{name}` name the same attribute \
                         (attribute names are case-insensitive)"
                    )
                }));
            }
            let StrictValue(value) = members.next_value()?;
            object.insert(name, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::ScimType;

    #[test]
    fn a_body_without_repeated_members_reads_as_serde_json_reads_it() {
        let body = br#"{"userName":"bjensen","emails":[{"value":"b@example.com","primary":true}],
            "n":-3,"big":18446744073709551615,"f":1.5,"none":null,"nested":{"a":{"b":[1,[2]]}}}"#;
        let strict = parse_body(body).expect("valid");
        let loose: Value = serde_json::from_slice(body).expect("valid");
        assert_eq!(strict, loose);
    }

    #[test]
    fn a_repeated_member_is_invalid_syntax_at_any_depth() {
        for body in [
            &br#"{"active":true,"active":false}"#[..],
            br#"{"emails":[{"value":"a@x","value":"b@x"}]}"#,
            br#"{"Operations":[{"op":"replace","value":{"active":true,"active":false}}]}"#,
        ] {
            let error = parse_body(body).expect_err("repeated member");
            assert_eq!(error.status, 400);
            error.assert_mentions(ScimType::InvalidSyntax, "appears twice");
        }
    }

    #[test]
    fn members_differing_only_in_case_are_the_same_attribute() {
        let error = parse_body(br#"{"userName":"a","USERNAME":"b"}"#).expect_err("same attribute");
        error.assert_mentions(ScimType::InvalidSyntax, "`userName` and `USERNAME`");
    }

    #[test]
    fn the_same_name_in_sibling_objects_is_fine() {
        let value = parse_body(br#"[{"value":"a"},{"value":"b"}]"#).expect("valid");
        assert_eq!(value, json!([{"value": "a"}, {"value": "b"}]));
    }

    #[test]
    fn malformed_json_and_trailing_data_are_invalid_syntax() {
        for body in [&b"{"[..], b"{} {}", b"", b"nul"] {
            let error = parse_body(body).expect_err("malformed");
            assert_eq!(error.scim_type, Some(ScimType::InvalidSyntax), "{body:?}");
        }
    }
}
