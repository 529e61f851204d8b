//! The example filters of RFC 7644 §3.4.2.2, compiled against the sample User columns
//! (`test_support.rs`) on both dialects, with the exact SQL and binds. These are the filters
//! any SCIM client may send; the SQL here is also what the integrator runs against real
//! SQLite and PostgreSQL databases to check that the text is valid and selects the right rows.

use super::dialect::Dialect::{Postgres, Sqlite};
use super::test_support::{assert_compiles, assert_compiles_on_both, text};

const EMAIL_ROWS: &str = "FROM user_values v WHERE v.user_id = u.id AND v.attribute = 'emails'";
const IM_ROWS: &str = "FROM user_values v WHERE v.user_id = u.id AND v.attribute = 'ims'";
const TIMESTAMP: &str = "2011-05-13T04:42:34Z";
const NORMALIZED_TIMESTAMP: &str = "2011-05-13T04:42:34.000000Z";
/// The same instant as sqlx writes it into SQLite.
const SQLITE_TIMESTAMP: &str = "2011-05-13T04:42:34+00:00";

#[test]
fn user_name_eq_uses_the_lowered_index_column() {
    assert_compiles_on_both(
        r#"userName eq "bjensen""#,
        "u.user_name_lower = $1",
        &[text("bjensen")],
    );
}

#[test]
fn family_name_co_keeps_the_apostrophe_in_the_bind_not_the_sql() {
    assert_compiles_on_both(
        r#"name.familyName co "O'Malley""#,
        r"lower(u.family_name) LIKE lower($1) ESCAPE '\'",
        &[text("%O'Malley%")],
    );
}

#[test]
fn user_name_sw_with_and_without_schema_urn() {
    for filter in [
        r#"userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
    ] {
        assert_compiles(
            filter,
            Sqlite,
            "(u.user_name_lower >= $1 AND u.user_name_lower < $2)",
            &[text("j"), text("k")],
        );
        assert_compiles(
            filter,
            Postgres,
            r"u.user_name_lower LIKE $1 ESCAPE '\'",
            &[text("j%")],
        );
    }
}

#[test]
fn title_pr() {
    assert_compiles_on_both("title pr", "(u.title IS NOT NULL AND u.title <> '')", &[]);
}

#[test]
fn last_modified_ordering_compares_instants() {
    for (operator, symbol) in [("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")] {
        let filter = format!(r#"meta.lastModified {operator} "{TIMESTAMP}""#);
        assert_compiles(
            &filter,
            Sqlite,
            &format!("u.last_modified {symbol} $1"),
            &[text(SQLITE_TIMESTAMP)],
        );
        assert_compiles(
            &filter,
            Postgres,
            &format!("u.last_modified {symbol} $1::timestamptz"),
            &[text(NORMALIZED_TIMESTAMP)],
        );
    }
}

#[test]
fn title_pr_and_user_type_eq() {
    assert_compiles_on_both(
        r#"title pr and userType eq "Employee""#,
        "(u.title IS NOT NULL AND u.title <> '' AND lower(u.user_type) = lower($1))",
        &[text("Employee")],
    );
}

#[test]
fn title_pr_or_user_type_eq() {
    assert_compiles_on_both(
        r#"title pr or userType eq "Intern""#,
        "((u.title IS NOT NULL AND u.title <> '') OR lower(u.user_type) = lower($1))",
        &[text("Intern")],
    );
}

#[test]
fn schemas_eq_an_extension_urn() {
    assert_compiles_on_both(
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        "EXISTS (SELECT 1 FROM user_values v WHERE v.user_id = u.id AND v.attribute = \
         'schemas' AND v.value = $1)",
        &[text(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        )],
    );
}

#[test]
fn user_type_eq_and_either_email_domain() {
    assert_compiles_on_both(
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        &format!(
            "(lower(u.user_type) = lower($1) AND (EXISTS (SELECT 1 {EMAIL_ROWS} AND \
             lower(v.value) LIKE lower($2) ESCAPE '\\') OR EXISTS (SELECT 1 {EMAIL_ROWS} AND \
             lower(v.value) LIKE lower($3) ESCAPE '\\')))"
        ),
        &[
            text("Employee"),
            text("%example.com%"),
            text("%example.org%"),
        ],
    );
}

#[test]
fn user_type_ne_and_neither_email_domain() {
    assert_compiles_on_both(
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        &format!(
            "((u.user_type IS NULL OR lower(u.user_type) <> lower($1)) AND NOT (EXISTS (SELECT \
             1 {EMAIL_ROWS} AND lower(v.value) LIKE lower($2) ESCAPE '\\') OR EXISTS (SELECT 1 \
             {EMAIL_ROWS} AND lower(v.value) LIKE lower($3) ESCAPE '\\')))"
        ),
        &[
            text("Employee"),
            text("%example.com%"),
            text("%example.org%"),
        ],
    );
}

#[test]
fn user_type_eq_and_a_work_email() {
    assert_compiles_on_both(
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        &format!(
            "(lower(u.user_type) = lower($1) AND EXISTS (SELECT 1 {EMAIL_ROWS} AND \
             lower(v.type) = lower($2)))"
        ),
        &[text("Employee"), text("work")],
    );
}

#[test]
fn user_type_eq_and_a_work_email_at_a_domain_on_the_same_email() {
    assert_compiles_on_both(
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        &format!(
            "(lower(u.user_type) = lower($1) AND EXISTS (SELECT 1 {EMAIL_ROWS} AND \
             lower(v.type) = lower($2) AND lower(v.value) LIKE lower($3) ESCAPE '\\'))"
        ),
        &[text("Employee"), text("work"), text("%@example.com%")],
    );
}

#[test]
fn a_work_email_or_an_xmpp_im_each_on_one_row() {
    assert_compiles_on_both(
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        &format!(
            "(EXISTS (SELECT 1 {EMAIL_ROWS} AND lower(v.type) = lower($1) AND lower(v.value) \
             LIKE lower($2) ESCAPE '\\') OR EXISTS (SELECT 1 {IM_ROWS} AND lower(v.type) = \
             lower($3) AND lower(v.value) LIKE lower($4) ESCAPE '\\'))"
        ),
        &[
            text("work"),
            text("%@example.com%"),
            text("xmpp"),
            text("%@foo.com%"),
        ],
    );
}
