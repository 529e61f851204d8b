//! `AttributeDefinition`, one attribute of a SCIM schema with the characteristics of RFC 7643
//! §2.2 and §7 (type, plurality, mutability, returned, uniqueness, case sensitivity, canonical
//! and reference values), and its JSON form for the `/Schemas` endpoint. The characteristics
//! are the single source of truth the server consults when it validates filters and PATCH
//! paths, so they live in plain data rather than being scattered over request handlers.

use serde_json::{Map, Value, json};

/// The data type of an attribute (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl AttributeType {
    /// The spelling used in the `type` key of a schema representation (RFC 7643 §7).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Binary => "binary",
            Self::Reference => "reference",
            Self::Complex => "complex",
        }
    }
}

/// Whether and when a client may change an attribute (RFC 7643 §2.2 `mutability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute appears in responses (RFC 7643 §2.2 `returned`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Default => "default",
            Self::Request => "request",
        }
    }
}

/// How far an attribute's value must be unique (RFC 7643 §2.2 `uniqueness`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }
}

/// One attribute or sub-attribute of a schema, with every RFC 7643 §7 characteristic.
///
/// Definitions are built once by the functions in the sibling modules and kept for the life
/// of the process, so names, descriptions and value lists are `&'static str`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDefinition {
    pub name: &'static str,
    pub attribute_type: AttributeType,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    /// Suggested values such as `work`/`home`; RFC 7643 lets servers accept others too.
    pub canonical_values: Vec<&'static str>,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    /// For `reference` attributes: resource type names, `external` or `uri`.
    pub reference_types: Vec<&'static str>,
    /// For `complex` attributes only; RFC 7643 §2.3.8 forbids nesting complex attributes.
    pub sub_attributes: Vec<AttributeDefinition>,
}

impl AttributeDefinition {
    /// An attribute with the defaults of RFC 7643 §2.2: single-valued, optional, not
    /// case-exact, `readWrite`, returned by default, no uniqueness constraint.
    pub fn new(
        name: &'static str,
        attribute_type: AttributeType,
        description: &'static str,
    ) -> Self {
        Self {
            name,
            attribute_type,
            multi_valued: false,
            description,
            required: false,
            canonical_values: Vec::new(),
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
        }
    }

    /// A `string` attribute with the RFC 7643 §2.2 defaults.
    pub fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttributeType::String, description)
    }

    /// A `boolean` attribute with the RFC 7643 §2.2 defaults.
    pub fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttributeType::Boolean, description)
    }

    /// A `dateTime` attribute with the RFC 7643 §2.2 defaults.
    pub fn date_time(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttributeType::DateTime, description)
    }

    /// A `reference` attribute that may point at the given kinds of target.
    pub fn reference(
        name: &'static str,
        reference_types: &[&'static str],
        description: &'static str,
    ) -> Self {
        let mut attribute = Self::new(name, AttributeType::Reference, description);
        attribute.reference_types = reference_types.to_vec();
        attribute
    }

    /// A `complex` attribute made of the given sub-attributes.
    pub fn complex(
        name: &'static str,
        description: &'static str,
        sub_attributes: Vec<AttributeDefinition>,
    ) -> Self {
        let mut attribute = Self::new(name, AttributeType::Complex, description);
        attribute.sub_attributes = sub_attributes;
        attribute
    }

    /// Marks the attribute multi-valued.
    pub fn multi_valued(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    /// Marks the attribute required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks the attribute's string values case-sensitive.
    pub fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    /// Sets the mutability.
    pub fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    /// Sets when the attribute is returned.
    pub fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    /// Sets the uniqueness constraint.
    pub fn uniqueness(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }

    /// Sets the canonical values.
    pub fn canonical_values(mut self, canonical_values: &[&'static str]) -> Self {
        self.canonical_values = canonical_values.to_vec();
        self
    }

    /// Sets the mutability of every sub-attribute, for complex attributes whose parts may
    /// all be changed (or not) alike.
    pub fn sub_attribute_mutability(mut self, mutability: Mutability) -> Self {
        for sub_attribute in &mut self.sub_attributes {
            sub_attribute.mutability = mutability;
        }
        self
    }

    /// Marks the attribute and every sub-attribute `readOnly`, for values the service
    /// provider alone assigns.
    pub fn read_only(self) -> Self {
        self.mutability(Mutability::ReadOnly)
            .sub_attribute_mutability(Mutability::ReadOnly)
    }

    /// The sub-attribute called `name`, compared ignoring ASCII case (RFC 7643 §2.1).
    pub fn sub_attribute(&self, name: &str) -> Option<&AttributeDefinition> {
        self.sub_attributes
            .iter()
            .find(|sub_attribute| sub_attribute.name.eq_ignore_ascii_case(name))
    }

    /// The RFC 7643 §7 representation of this attribute, as listed in a schema's
    /// `attributes`.
    ///
    /// The characteristics that every attribute has are always written out, even where they
    /// hold the §2.2 default, because several SCIM clients read a missing key as "unknown"
    /// rather than as the default. `canonicalValues`, `referenceTypes` and `subAttributes`
    /// are written only where they mean something: when there are canonical values, for
    /// `reference` attributes, and for `complex` ones.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("name".to_owned(), json!(self.name));
        object.insert("type".to_owned(), json!(self.attribute_type.as_str()));
        object.insert("multiValued".to_owned(), json!(self.multi_valued));
        object.insert("description".to_owned(), json!(self.description));
        object.insert("required".to_owned(), json!(self.required));
        if !self.canonical_values.is_empty() {
            object.insert("canonicalValues".to_owned(), json!(self.canonical_values));
        }
        object.insert("caseExact".to_owned(), json!(self.case_exact));
        object.insert("mutability".to_owned(), json!(self.mutability.as_str()));
        object.insert("returned".to_owned(), json!(self.returned.as_str()));
        object.insert("uniqueness".to_owned(), json!(self.uniqueness.as_str()));
        if self.attribute_type == AttributeType::Reference {
            object.insert("referenceTypes".to_owned(), json!(self.reference_types));
        }
        if self.attribute_type == AttributeType::Complex {
            let sub_attributes: Vec<Value> = self
                .sub_attributes
                .iter()
                .map(AttributeDefinition::to_json)
                .collect();
            object.insert("subAttributes".to_owned(), Value::Array(sub_attributes));
        }
        Value::Object(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_attributes_carry_the_rfc_7643_defaults() {
        let attribute = AttributeDefinition::string("nickName", "A casual name.");
        assert!(!attribute.multi_valued);
        assert!(!attribute.required);
        assert!(!attribute.case_exact);
        assert_eq!(attribute.mutability, Mutability::ReadWrite);
        assert_eq!(attribute.returned, Returned::Default);
        assert_eq!(attribute.uniqueness, Uniqueness::None);
        assert!(attribute.canonical_values.is_empty());
        assert!(attribute.reference_types.is_empty());
        assert!(attribute.sub_attributes.is_empty());
    }

    #[test]
    fn enumerations_use_the_rfc_7643_spellings() {
        let types = [
            (AttributeType::String, "string"),
            (AttributeType::Boolean, "boolean"),
            (AttributeType::Decimal, "decimal"),
            (AttributeType::Integer, "integer"),
            (AttributeType::DateTime, "dateTime"),
            (AttributeType::Binary, "binary"),
            (AttributeType::Reference, "reference"),
            (AttributeType::Complex, "complex"),
        ];
        for (attribute_type, spelling) in types {
            assert_eq!(attribute_type.as_str(), spelling);
        }
        assert_eq!(Mutability::ReadOnly.as_str(), "readOnly");
        assert_eq!(Mutability::ReadWrite.as_str(), "readWrite");
        assert_eq!(Mutability::Immutable.as_str(), "immutable");
        assert_eq!(Mutability::WriteOnly.as_str(), "writeOnly");
        assert_eq!(Returned::Always.as_str(), "always");
        assert_eq!(Returned::Never.as_str(), "never");
        assert_eq!(Returned::Default.as_str(), "default");
        assert_eq!(Returned::Request.as_str(), "request");
        assert_eq!(Uniqueness::None.as_str(), "none");
        assert_eq!(Uniqueness::Server.as_str(), "server");
        assert_eq!(Uniqueness::Global.as_str(), "global");
    }

    #[test]
    fn simple_attribute_json_lists_every_characteristic_but_no_empty_extras() {
        let attribute = AttributeDefinition::string("externalId", "Client identifier.")
            .case_exact()
            .uniqueness(Uniqueness::Global)
            .mutability(Mutability::Immutable)
            .returned(Returned::Request)
            .required()
            .multi_valued();
        assert_eq!(
            attribute.to_json(),
            json!({
                "name": "externalId",
                "type": "string",
                "multiValued": true,
                "description": "Client identifier.",
                "required": true,
                "caseExact": true,
                "mutability": "immutable",
                "returned": "request",
                "uniqueness": "global",
            })
        );
    }

    #[test]
    fn reference_and_complex_attributes_add_their_own_keys() {
        let attribute = AttributeDefinition::complex(
            "manager",
            "The manager.",
            vec![
                AttributeDefinition::reference("$ref", &["User"], "Manager URI."),
                AttributeDefinition::string("kind", "Kind.").canonical_values(&["a", "b"]),
            ],
        );
        let json = attribute.to_json();
        assert_eq!(json["type"], "complex");
        assert_eq!(json["subAttributes"][0]["referenceTypes"], json!(["User"]));
        assert_eq!(
            json["subAttributes"][1]["canonicalValues"],
            json!(["a", "b"])
        );
        assert!(json.get("referenceTypes").is_none());
        assert!(json["subAttributes"][1].get("subAttributes").is_none());
    }

    #[test]
    fn sub_attributes_are_found_ignoring_case() {
        let attribute = AttributeDefinition::complex(
            "name",
            "Name.",
            vec![AttributeDefinition::string("familyName", "Family name.")],
        );
        assert_eq!(
            attribute
                .sub_attribute("FAMILYNAME")
                .map(|found| found.name),
            Some("familyName")
        );
        assert!(attribute.sub_attribute("family").is_none());
    }
}
