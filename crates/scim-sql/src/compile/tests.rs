//! How whole filters compile: connectives and their parentheses, `not` with absent values,
//! multi-valued attributes (value paths as one `EXISTS` over the same row, sub-attribute
//! filters as separate `EXISTS`), placeholder numbering, and the compile errors.

use super::*;
use crate::dialect::Dialect::{Postgres, Sqlite};
use crate::fragment::SqlValue;
use crate::test_support::{UserColumns, assert_compiles_on_both, compiled, text, try_compiled};
use scim::filter::parse_filter;

const EMAILS: &str = "FROM user_values v WHERE v.user_id = u.id AND v.attribute = 'emails'";

#[test]
fn and_binds_tighter_than_or_and_the_sql_says_so() {
    assert_compiles_on_both(
        r#"externalId eq "a" or externalId eq "b" and active eq true"#,
        "(u.external_id = $1 OR (u.external_id = $2 AND u.active = $3))",
        &[text("a"), text("b"), SqlValue::Boolean(true)],
    );
    assert_compiles_on_both(
        r#"(externalId eq "a" or externalId eq "b") and active eq true"#,
        "((u.external_id = $1 OR u.external_id = $2) AND u.active = $3)",
        &[text("a"), text("b"), SqlValue::Boolean(true)],
    );
}

#[test]
fn chains_of_and_or_or_stay_flat() {
    assert_compiles_on_both(
        r#"externalId eq "a" and (externalId eq "b" and externalId eq "c")"#,
        "(u.external_id = $1 AND u.external_id = $2 AND u.external_id = $3)",
        &[text("a"), text("b"), text("c")],
    );
    assert_compiles_on_both(
        r#"externalId eq "a" or externalId eq "b" or externalId eq "c""#,
        "(u.external_id = $1 OR u.external_id = $2 OR u.external_id = $3)",
        &[text("a"), text("b"), text("c")],
    );
}

#[test]
fn not_treats_a_comparison_with_an_absent_value_as_false() {
    // Without COALESCE, NOT (NULL = $1) is NULL and users without a title would not match.
    assert_compiles_on_both(
        r#"not (title eq "Tour Guide")"#,
        "NOT COALESCE(lower(u.title) = lower($1), FALSE)",
        &[text("Tour Guide")],
    );
    assert_compiles_on_both(
        r#"not (externalId eq "a" or title pr)"#,
        "NOT COALESCE(u.external_id = $1 OR (u.title IS NOT NULL AND u.title <> ''), FALSE)",
        &[text("a")],
    );
}

#[test]
fn not_of_an_expression_that_cannot_be_null_is_plain() {
    assert_compiles_on_both(
        "not (title pr)",
        "NOT (u.title IS NOT NULL AND u.title <> '')",
        &[],
    );
    assert_compiles_on_both(
        "not (emails pr)",
        &format!("NOT EXISTS (SELECT 1 {EMAILS})"),
        &[],
    );
    assert_compiles_on_both(
        r#"not (not (title ne "x"))"#,
        "NOT (NOT (u.title IS NULL OR lower(u.title) <> lower($1)))",
        &[text("x")],
    );
}

#[test]
fn not_inside_and_needs_no_parentheses() {
    assert_compiles_on_both(
        r#"active eq true and not (externalId eq "a")"#,
        "(u.active = $1 AND NOT COALESCE(u.external_id = $2, FALSE))",
        &[SqlValue::Boolean(true), text("a")],
    );
}

#[test]
fn a_value_path_tests_all_its_conditions_on_the_same_row() {
    assert_compiles_on_both(
        r#"emails[type eq "work" and value co "@example.com"]"#,
        &format!(
            "EXISTS (SELECT 1 {EMAILS} AND lower(v.type) = lower($1) AND lower(v.value) LIKE \
             lower($2) ESCAPE '\\')"
        ),
        &[text("work"), text("%@example.com%")],
    );
}

#[test]
fn or_and_not_inside_a_value_path_stay_inside_its_exists() {
    assert_compiles_on_both(
        r#"emails[type eq "work" or not (primary eq true)]"#,
        &format!(
            "EXISTS (SELECT 1 {EMAILS} AND (lower(v.type) = lower($1) OR NOT COALESCE(v.\"primary\" \
             = $2, FALSE)))"
        ),
        &[text("work"), SqlValue::Boolean(true)],
    );
}

#[test]
fn sub_attribute_filters_outside_brackets_are_separate_exists() {
    assert_compiles_on_both(
        r#"emails.type eq "work" and emails.value co "@example.com""#,
        &format!(
            "(EXISTS (SELECT 1 {EMAILS} AND lower(v.type) = lower($1)) AND EXISTS (SELECT 1 \
             {EMAILS} AND lower(v.value) LIKE lower($2) ESCAPE '\\'))"
        ),
        &[text("work"), text("%@example.com%")],
    );
}

#[test]
fn a_multi_valued_attribute_without_sub_attribute_means_its_value() {
    assert_compiles_on_both(
        r#"emails eq "Babs@Jensen.org""#,
        &format!("EXISTS (SELECT 1 {EMAILS} AND lower(v.value) = lower($1))"),
        &[text("Babs@Jensen.org")],
    );
}

#[test]
fn pr_on_a_multi_valued_attribute_asks_for_any_row_and_on_a_sub_attribute_for_a_value() {
    assert_compiles_on_both("emails pr", &format!("EXISTS (SELECT 1 {EMAILS})"), &[]);
    assert_compiles_on_both(
        "emails.type pr",
        &format!("EXISTS (SELECT 1 {EMAILS} AND v.type IS NOT NULL AND v.type <> '')"),
        &[],
    );
    assert_compiles_on_both(
        "emails[display pr]",
        &format!("EXISTS (SELECT 1 {EMAILS} AND v.display IS NOT NULL AND v.display <> '')"),
        &[],
    );
}

#[test]
fn ne_on_a_multi_valued_attribute_asks_for_some_other_value() {
    assert_compiles_on_both(
        r#"emails.type ne "work""#,
        &format!("EXISTS (SELECT 1 {EMAILS} AND (v.type IS NULL OR lower(v.type) <> lower($1)))"),
        &[text("work")],
    );
}

#[test]
fn sw_inside_a_value_path_folds_with_lower_on_both_dialects() {
    // Child rows have no lowered column, so SQLite cannot use the index range here.
    assert_compiles_on_both(
        r#"emails[value sw "Babs"]"#,
        &format!("EXISTS (SELECT 1 {EMAILS} AND lower(v.value) LIKE lower($1) ESCAPE '\\')"),
        &[text("Babs%")],
    );
}

#[test]
fn attribute_and_sub_attribute_names_ignore_case() {
    assert_compiles_on_both(
        r#"USERNAME eq "x" and Emails[TYPE eq "work"]"#,
        &format!(
            "(u.user_name_lower = $1 AND EXISTS (SELECT 1 {EMAILS} AND lower(v.type) = lower($2)))"
        ),
        &[text("x"), text("work")],
    );
}

#[test]
fn placeholders_continue_from_the_first_placeholder_given() {
    let filter = match parse_filter(r#"userName sw "J" and title eq "x""#) {
        Ok(filter) => filter,
        Err(error) => panic!("{error}"),
    };
    let fragment = compile_filter(&filter, &UserColumns, Sqlite, 4);
    assert_eq!(
        fragment.map(|fragment| fragment.sql),
        Ok(
            "(u.user_name_lower >= $4 AND u.user_name_lower < $5 AND lower(u.title) = \
            lower($6))"
                .to_owned()
        )
    );
}

#[test]
fn client_values_never_appear_in_the_sql_text() {
    let fragment = compiled(r#"title eq "'; DROP TABLE users; --""#, Postgres);
    assert!(!fragment.sql.contains("DROP"), "{}", fragment.sql);
    assert_eq!(fragment.binds, [text("'; DROP TABLE users; --")]);
}

#[test]
fn unknown_attributes_are_named_in_the_error() {
    for (filter, name) in [
        (r#"nickName eq "x""#, "nickName"),
        (r#"name.middleName eq "x""#, "name.middleName"),
        (r#"emails.kind eq "x""#, "emails.kind"),
        (r#"emails[kind eq "x"]"#, "emails.kind"),
        (r#"emails[value.x eq "x"]"#, "emails.value.x"),
        (r#"nickNames[type eq "x"]"#, "nickNames"),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1""#,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        ),
    ] {
        assert_eq!(
            try_compiled(filter, Sqlite),
            Err(CompileError::UnknownAttribute(name.to_owned())),
            "{filter}"
        );
    }
}

#[test]
fn an_attribute_without_value_sub_attribute_cannot_be_compared_directly() {
    struct NoValue;
    impl ColumnMap for NoValue {
        fn column(&self, _: &AttributePath) -> Option<Column> {
            Some(Column::MultiValued {
                table: "t".to_owned(),
                owner_column: "owner".to_owned(),
                owner_expression: "r.id".to_owned(),
                attribute_name: "x509Certificates".to_owned(),
                sub_attributes: Vec::new(),
            })
        }
    }
    let filter = match parse_filter(r#"x509Certificates eq "x""#) {
        Ok(filter) => filter,
        Err(error) => panic!("{error}"),
    };
    assert_eq!(
        compile_filter(&filter, &NoValue, Sqlite, 1),
        Err(CompileError::UnknownAttribute(
            "x509Certificates.value".to_owned()
        ))
    );
}

#[test]
fn a_value_path_on_a_single_valued_attribute_is_unsupported() {
    for filter in [r#"title[value eq "x"]"#, r#"emails.type[value eq "x"]"#] {
        let error = try_compiled(filter, Postgres);
        assert!(
            matches!(&error, Err(CompileError::UnsupportedComparison(message))
                if message.contains("multi-valued")),
            "{filter}: {error:?}"
        );
    }
}

#[test]
fn nested_value_paths_built_in_code_are_unsupported() {
    let inner = match parse_filter(r#"emails[type eq "work"]"#) {
        Ok(filter) => filter,
        Err(error) => panic!("{error}"),
    };
    let nested = Filter::ValuePath {
        attribute: AttributePath {
            schema_urn: None,
            attribute: "ims".to_owned(),
            sub_attribute: None,
        },
        filter: Box::new(inner),
    };
    assert!(matches!(
        compile_filter(&nested, &UserColumns, Sqlite, 1),
        Err(CompileError::UnsupportedComparison(_))
    ));
}

#[test]
fn absurdly_deep_filters_built_in_code_are_refused_rather_than_overflowing_the_stack() {
    let mut filter = Filter::Present(AttributePath {
        schema_urn: None,
        attribute: "title".to_owned(),
        sub_attribute: None,
    });
    for _ in 0..10_000 {
        filter = Filter::Not(Box::new(filter));
    }
    let result = compile_filter(&filter, &UserColumns, Sqlite, 1);
    assert!(
        matches!(&result, Err(CompileError::UnsupportedComparison(message))
            if message.contains("nests")),
        "{result:?}"
    );
    // Dropping a 10 000-deep tree recurses as well; leak it rather than risk the stack.
    std::mem::forget(filter);
}

#[test]
fn long_and_chains_built_in_code_compile_without_deep_recursion() {
    let term = || {
        Filter::Present(AttributePath {
            schema_urn: None,
            attribute: "title".to_owned(),
            sub_attribute: None,
        })
    };
    let mut filter = term();
    for _ in 0..2_000 {
        filter = Filter::And(Box::new(filter), Box::new(term()));
    }
    let result = compile_filter(&filter, &UserColumns, Sqlite, 1);
    assert!(result.is_ok(), "{result:?}");
    std::mem::forget(filter);
}
