//! The service provider configuration (RFC 7643 §5) served at `/ServiceProviderConfig`: which
//! optional SCIM features Gatehouse supports and within what limits, plus how clients
//! authenticate. Clients such as Entra ID and Okta read it to decide whether to PATCH, filter
//! or use ETags, so the values here must match what the server really does; they are plain
//! settings so the server can build them from its own configuration.

use serde_json::{Map, Value, json};

/// The `schemas` value of the service provider configuration (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG_SCHEMA_URN: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// Bulk operation support (RFC 7643 §5 `bulk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkSettings {
    pub supported: bool,
    pub max_operations: u32,
    pub max_payload_size_bytes: u64,
}

/// Filter support (RFC 7643 §5 `filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterSettings {
    pub supported: bool,
    /// The most resources a single list or search response returns.
    pub max_results: u32,
}

/// How a list request without pagination parameters is paged (RFC 9865).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaginationMethod {
    /// `startIndex`/`count` pagination of RFC 7644 §3.4.2.4.
    Index,
    /// `cursor`/`count` pagination of RFC 9865.
    Cursor,
}

impl PaginationMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Index => "index",
            Self::Cursor => "cursor",
        }
    }
}

/// Pagination support, the `pagination` attribute RFC 9865 adds to the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaginationSettings {
    pub cursor: bool,
    pub index: bool,
    pub default_pagination_method: PaginationMethod,
    /// Page size when a request gives no `count`.
    pub default_page_size: u32,
    pub max_page_size: u32,
    /// How long an issued cursor stays valid, in seconds (RFC 9865 `cursorTimeout`).
    pub cursor_timeout_seconds: u32,
}

/// One way of authenticating to the service (RFC 7643 §5 `authenticationSchemes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationScheme {
    /// The scheme's type: `oauth`, `oauth2`, `oauthbearertoken`, `httpbasic` or `httpdigest`.
    pub scheme_type: String,
    pub name: String,
    pub description: String,
    pub spec_uri: Option<String>,
    pub documentation_uri: Option<String>,
    pub primary: bool,
}

impl AuthenticationScheme {
    /// Bearer tokens (RFC 6750), the scheme Gatehouse's SCIM API uses.
    pub fn oauth_bearer_token() -> Self {
        Self {
            scheme_type: "oauthbearertoken".to_owned(),
            name: "OAuth Bearer Token".to_owned(),
            description: "Authentication scheme using the OAuth Bearer Token Standard".to_owned(),
            spec_uri: Some("https://www.rfc-editor.org/info/rfc6750".to_owned()),
            documentation_uri: None,
            primary: true,
        }
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("type".to_owned(), json!(self.scheme_type));
        object.insert("name".to_owned(), json!(self.name));
        object.insert("description".to_owned(), json!(self.description));
        if let Some(spec_uri) = &self.spec_uri {
            object.insert("specUri".to_owned(), json!(spec_uri));
        }
        if let Some(documentation_uri) = &self.documentation_uri {
            object.insert("documentationUri".to_owned(), json!(documentation_uri));
        }
        object.insert("primary".to_owned(), json!(self.primary));
        Value::Object(object)
    }
}

/// What the service supports, as served at `/ServiceProviderConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProviderConfig {
    /// A human-readable help page, if there is one.
    pub documentation_uri: Option<String>,
    pub patch_supported: bool,
    pub bulk: BulkSettings,
    pub filter: FilterSettings,
    pub change_password_supported: bool,
    pub sort_supported: bool,
    pub etag_supported: bool,
    pub pagination: PaginationSettings,
    pub authentication_schemes: Vec<AuthenticationScheme>,
}

impl Default for ServiceProviderConfig {
    /// Gatehouse's capabilities: PATCH, bulk up to 1000 operations or 1 MiB, filters of up to
    /// 200 results, sorting and ETags, both kinds of pagination with index as the default
    /// (the method Entra ID and Okta use), and bearer tokens. Password changes are not
    /// supported: people authenticate through Gatehouse's own flows, not a SCIM password.
    fn default() -> Self {
        Self {
            documentation_uri: None,
            patch_supported: true,
            bulk: BulkSettings {
                supported: true,
                max_operations: 1000,
                max_payload_size_bytes: 1_048_576,
            },
            filter: FilterSettings {
                supported: true,
                max_results: 200,
            },
            change_password_supported: false,
            sort_supported: true,
            etag_supported: true,
            pagination: PaginationSettings {
                cursor: true,
                index: true,
                default_pagination_method: PaginationMethod::Index,
                default_page_size: 100,
                max_page_size: 200,
                cursor_timeout_seconds: 3600,
            },
            authentication_schemes: vec![AuthenticationScheme::oauth_bearer_token()],
        }
    }
}

impl ServiceProviderConfig {
    /// Where the configuration is served: `{base_url}/ServiceProviderConfig`.
    pub fn location(base_url: &str) -> String {
        format!("{}/ServiceProviderConfig", base_url.trim_end_matches('/'))
    }

    /// The configuration resource (RFC 7643 §5, example in §8.5; `pagination` per RFC 9865).
    /// It has no `id`, as §5 allows for this singleton. `base_url` is the SCIM service root.
    pub fn to_json(&self, base_url: &str) -> Value {
        let authentication_schemes: Vec<Value> = self
            .authentication_schemes
            .iter()
            .map(AuthenticationScheme::to_json)
            .collect();
        let mut json = json!({
            "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA_URN],
            "patch": {"supported": self.patch_supported},
            "bulk": {
                "supported": self.bulk.supported,
                "maxOperations": self.bulk.max_operations,
                "maxPayloadSize": self.bulk.max_payload_size_bytes,
            },
            "filter": {
                "supported": self.filter.supported,
                "maxResults": self.filter.max_results,
            },
            "changePassword": {"supported": self.change_password_supported},
            "sort": {"supported": self.sort_supported},
            "etag": {"supported": self.etag_supported},
            "pagination": {
                "cursor": self.pagination.cursor,
                "index": self.pagination.index,
                "defaultPaginationMethod": self.pagination.default_pagination_method.as_str(),
                "defaultPageSize": self.pagination.default_page_size,
                "maxPageSize": self.pagination.max_page_size,
                "cursorTimeout": self.pagination.cursor_timeout_seconds,
            },
            "authenticationSchemes": authentication_schemes,
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": Self::location(base_url),
            },
        });
        if let (Some(documentation_uri), Value::Object(object)) =
            (&self.documentation_uri, &mut json)
        {
            object.insert("documentationUri".to_owned(), json!(documentation_uri));
        }
        json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_configuration_json_advertises_gatehouse_capabilities() {
        let json = ServiceProviderConfig::default().to_json("https://example.com/scim/v2");
        assert_eq!(
            json,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
                "patch": {"supported": true},
                "bulk": {"supported": true, "maxOperations": 1000, "maxPayloadSize": 1048576},
                "filter": {"supported": true, "maxResults": 200},
                "changePassword": {"supported": false},
                "sort": {"supported": true},
                "etag": {"supported": true},
                "pagination": {
                    "cursor": true,
                    "index": true,
                    "defaultPaginationMethod": "index",
                    "defaultPageSize": 100,
                    "maxPageSize": 200,
                    "cursorTimeout": 3600
                },
                "authenticationSchemes": [{
                    "type": "oauthbearertoken",
                    "name": "OAuth Bearer Token",
                    "description": "Authentication scheme using the OAuth Bearer Token Standard",
                    "specUri": "https://www.rfc-editor.org/info/rfc6750",
                    "primary": true
                }],
                "meta": {
                    "resourceType": "ServiceProviderConfig",
                    "location": "https://example.com/scim/v2/ServiceProviderConfig"
                }
            })
        );
    }

    #[test]
    fn key_settings_are_where_clients_look_for_them() {
        let json = ServiceProviderConfig::default().to_json("https://example.com/scim/v2/");
        assert_eq!(json["bulk"]["maxOperations"], 1000);
        assert_eq!(json["filter"]["maxResults"], 200);
        assert_eq!(json["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(
            json["meta"]["location"],
            "https://example.com/scim/v2/ServiceProviderConfig"
        );
        assert!(json.get("id").is_none());
        assert!(json.get("documentationUri").is_none());
    }

    #[test]
    fn changed_settings_and_documentation_appear_in_the_json() {
        let mut configuration = ServiceProviderConfig {
            documentation_uri: Some("https://example.com/help/scim".to_owned()),
            ..ServiceProviderConfig::default()
        };
        configuration.bulk.supported = false;
        configuration.pagination.default_pagination_method = PaginationMethod::Cursor;
        configuration.authentication_schemes[0].documentation_uri =
            Some("https://example.com/help/tokens".to_owned());
        let json = configuration.to_json("https://example.com/scim/v2");
        assert_eq!(json["documentationUri"], "https://example.com/help/scim");
        assert_eq!(json["bulk"]["supported"], false);
        assert_eq!(json["pagination"]["defaultPaginationMethod"], "cursor");
        assert_eq!(
            json["authenticationSchemes"][0]["documentationUri"],
            "https://example.com/help/tokens"
        );
    }
}
