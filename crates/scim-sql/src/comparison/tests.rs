//! One test per operator (and per attribute type for the typed ones), on both dialects, with
//! the exact SQL and binds, through the public `compile_filter` and the sample User columns:
//! `userName` (case-insensitive, lowered column), `title` (case-insensitive, no lowered
//! column), `externalId` (case-exact), `profileUrl` (reference), `active`, `loginCount`,
//! `riskScore`, `meta.lastModified`.

use crate::dialect::Dialect::{Postgres, Sqlite};
use crate::error::CompileError;
use crate::fragment::SqlValue::{Boolean, Integer, Real};
use crate::test_support::{assert_compiles, assert_compiles_on_both, text, try_compiled};

#[test]
fn eq_compares_lowered_text_unless_case_exact() {
    assert_compiles_on_both(
        r#"userName eq "BJensen""#,
        "u.user_name_lower = $1",
        &[text("bjensen")],
    );
    assert_compiles_on_both(
        r#"title eq "Tour Guide""#,
        "lower(u.title) = lower($1)",
        &[text("Tour Guide")],
    );
    assert_compiles_on_both(
        r#"externalId eq "Ab1""#,
        "u.external_id = $1",
        &[text("Ab1")],
    );
    assert_compiles_on_both(
        r#"profileUrl eq "https://Login.Example.com/bjensen""#,
        "lower(u.profile_url) = lower($1)",
        &[text("https://Login.Example.com/bjensen")],
    );
}

#[test]
fn lowered_column_operands_are_folded_by_rust_for_all_of_unicode() {
    assert_compiles_on_both(
        r#"userName eq "ÉMILE.ΣΟΦΊΑ""#,
        "u.user_name_lower = $1",
        &[text("émile.σοφία")],
    );
    // Width, compatibility forms and full case folding, as `text::fold` makes the stored key.
    assert_compiles_on_both(
        r#"userName eq "ＢＯＢ.Straße.ﬁ""#,
        "u.user_name_lower = $1",
        &[text("bob.strasse.fi")],
    );
}

#[test]
fn whole_value_operands_are_trimmed_but_substring_operands_keep_their_spaces() {
    assert_compiles_on_both(
        r#"userName eq "  Bob ""#,
        "u.user_name_lower = $1",
        &[text("bob")],
    );
    assert_compiles(
        r#"userName gt " Bob""#,
        Sqlite,
        "u.user_name_lower > $1",
        &[text("bob")],
    );
    assert_compiles(
        r#"userName sw "Ann ""#,
        Postgres,
        r"u.user_name_lower LIKE $1 ESCAPE '\'",
        &[text("ann %")],
    );
    assert_compiles_on_both(
        r#"userName co " Ａnn""#,
        r"u.user_name_lower LIKE $1 ESCAPE '\'",
        &[text("% ann%")],
    );
    // A column without a key column is compared by the database's `lower`, operand unchanged.
    assert_compiles_on_both(
        r#"title eq " Guide ""#,
        "lower(u.title) = lower($1)",
        &[text(" Guide ")],
    );
}

#[test]
fn ne_also_matches_absent_values() {
    assert_compiles_on_both(
        r#"userName ne "BJensen""#,
        "(u.user_name_lower IS NULL OR u.user_name_lower <> $1)",
        &[text("bjensen")],
    );
    assert_compiles_on_both(
        r#"title ne "Tour Guide""#,
        "(u.title IS NULL OR lower(u.title) <> lower($1))",
        &[text("Tour Guide")],
    );
    assert_compiles_on_both(
        r#"externalId ne "Ab1""#,
        "(u.external_id IS NULL OR u.external_id <> $1)",
        &[text("Ab1")],
    );
}

#[test]
fn co_uses_an_escaped_like_pattern_except_for_case_exact_text_on_sqlite() {
    assert_compiles_on_both(
        r#"userName co "Jen""#,
        r"u.user_name_lower LIKE $1 ESCAPE '\'",
        &[text("%jen%")],
    );
    assert_compiles_on_both(
        r#"title co "Guide""#,
        r"lower(u.title) LIKE lower($1) ESCAPE '\'",
        &[text("%Guide%")],
    );
    // SQLite's LIKE ignores ASCII case, so a case-exact `co` there is `instr`.
    assert_compiles(
        r#"externalId co "Ab""#,
        Sqlite,
        "instr(u.external_id, $1) > 0",
        &[text("Ab")],
    );
    assert_compiles(
        r#"externalId co "Ab""#,
        Postgres,
        r"u.external_id LIKE $1 ESCAPE '\'",
        &[text("%Ab%")],
    );
}

#[test]
fn like_wildcards_and_backslashes_in_the_operand_match_literally() {
    let filter = r#"title co "50%_off\\""#;
    assert_compiles_on_both(
        filter,
        r"lower(u.title) LIKE lower($1) ESCAPE '\'",
        &[text(r"%50\%\_off\\%")],
    );
    assert_compiles(
        r#"externalId co "50%_off\\""#,
        Postgres,
        r"u.external_id LIKE $1 ESCAPE '\'",
        &[text(r"%50\%\_off\\%")],
    );
    // `instr` has no wildcards, so the operand is bound as is.
    assert_compiles(
        r#"externalId co "50%_off\\""#,
        Sqlite,
        "instr(u.external_id, $1) > 0",
        &[text(r"50%_off\")],
    );
    assert_compiles(
        r#"userName sw "50%_off\\""#,
        Postgres,
        r"u.user_name_lower LIKE $1 ESCAPE '\'",
        &[text(r"50\%\_off\\%")],
    );
    assert_compiles(
        r#"userName ew "50%_off\\""#,
        Sqlite,
        r"u.user_name_lower LIKE $1 ESCAPE '\'",
        &[text(r"%50\%\_off\\")],
    );
}

#[test]
fn sw_is_a_like_prefix_on_postgres_and_an_index_range_on_sqlite() {
    assert_compiles(
        r#"userName sw "J""#,
        Postgres,
        r"u.user_name_lower LIKE $1 ESCAPE '\'",
        &[text("j%")],
    );
    assert_compiles(
        r#"userName sw "J""#,
        Sqlite,
        "(u.user_name_lower >= $1 AND u.user_name_lower < $2)",
        &[text("j"), text("k")],
    );
    assert_compiles(
        r#"externalId sw "Ab""#,
        Postgres,
        r"u.external_id LIKE $1 ESCAPE '\'",
        &[text("Ab%")],
    );
    assert_compiles(
        r#"externalId sw "Ab""#,
        Sqlite,
        "(u.external_id >= $1 AND u.external_id < $2)",
        &[text("Ab"), text("Ac")],
    );
    // Without a lowered column no index applies, and SQLite's `lower` would have to fold the
    // range bound too; LIKE over `lower` on both sides is exact and simpler.
    assert_compiles_on_both(
        r#"title sw "Tour""#,
        r"lower(u.title) LIKE lower($1) ESCAPE '\'",
        &[text("Tour%")],
    );
}

#[test]
fn sw_on_sqlite_without_an_upper_bound_compares_the_prefix() {
    assert_compiles(
        "externalId sw \"\u{10FFFF}\"",
        Sqlite,
        "substr(u.external_id, 1, length($1)) = $1",
        &[text("\u{10FFFF}")],
    );
}

#[test]
fn ew_uses_like_except_for_case_exact_text_on_sqlite() {
    assert_compiles_on_both(
        r#"userName ew "Sen""#,
        r"u.user_name_lower LIKE $1 ESCAPE '\'",
        &[text("%sen")],
    );
    assert_compiles_on_both(
        r#"title ew "Guide""#,
        r"lower(u.title) LIKE lower($1) ESCAPE '\'",
        &[text("%Guide")],
    );
    assert_compiles(
        r#"externalId ew "b1""#,
        Sqlite,
        "substr(u.external_id, -length($1)) = $1",
        &[text("b1")],
    );
    assert_compiles(
        r#"externalId ew "b1""#,
        Postgres,
        r"u.external_id LIKE $1 ESCAPE '\'",
        &[text("%b1")],
    );
}

#[test]
fn an_empty_substring_operand_matches_every_present_value() {
    for operator in ["co", "sw", "ew"] {
        assert_compiles_on_both(
            &format!(r#"externalId {operator} """#),
            "u.external_id IS NOT NULL",
            &[],
        );
        assert_compiles_on_both(
            &format!(r#"userName {operator} """#),
            "u.user_name_lower IS NOT NULL",
            &[],
        );
    }
}

#[test]
fn ordering_operators_compare_text_by_code_point_on_both_dialects() {
    for (operator, symbol) in [("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")] {
        assert_compiles(
            &format!(r#"userName {operator} "M""#),
            Sqlite,
            &format!("u.user_name_lower {symbol} $1"),
            &[text("m")],
        );
        assert_compiles(
            &format!(r#"userName {operator} "M""#),
            Postgres,
            &format!("u.user_name_lower COLLATE \"C\" {symbol} $1"),
            &[text("m")],
        );
        assert_compiles(
            &format!(r#"title {operator} "M""#),
            Sqlite,
            &format!("lower(u.title) {symbol} lower($1)"),
            &[text("M")],
        );
        assert_compiles(
            &format!(r#"externalId {operator} "M""#),
            Postgres,
            &format!("u.external_id COLLATE \"C\" {symbol} $1"),
            &[text("M")],
        );
    }
}

#[test]
fn pr_on_text_excludes_empty_strings_and_on_other_types_tests_for_null() {
    assert_compiles_on_both("title pr", "(u.title IS NOT NULL AND u.title <> '')", &[]);
    assert_compiles_on_both(
        "userName pr",
        "(u.user_name IS NOT NULL AND u.user_name <> '')",
        &[],
    );
    assert_compiles_on_both("active pr", "u.active IS NOT NULL", &[]);
    assert_compiles_on_both("loginCount pr", "u.login_count IS NOT NULL", &[]);
    assert_compiles_on_both("meta.lastModified pr", "u.last_modified IS NOT NULL", &[]);
}

#[test]
fn eq_null_and_ne_null_test_absence_and_presence() {
    assert_compiles_on_both("title eq null", "u.title IS NULL", &[]);
    assert_compiles_on_both("title ne null", "u.title IS NOT NULL", &[]);
    assert_compiles_on_both("active eq null", "u.active IS NULL", &[]);
    assert_compiles_on_both(
        "meta.lastModified ne null",
        "u.last_modified IS NOT NULL",
        &[],
    );
}

#[test]
fn null_cannot_be_ordered_or_matched() {
    let error = try_compiled("title gt null", Sqlite);
    assert!(
        matches!(&error, Err(CompileError::InvalidValue(message)) if message.contains("null")),
        "{error:?}"
    );
    assert!(matches!(
        try_compiled("title co null", Postgres),
        Err(CompileError::InvalidValue(_))
    ));
}

#[test]
fn booleans_support_eq_and_ne() {
    assert_compiles_on_both("active eq true", "u.active = $1", &[Boolean(true)]);
    assert_compiles_on_both(
        "active ne false",
        "(u.active IS NULL OR u.active <> $1)",
        &[Boolean(false)],
    );
}

#[test]
fn booleans_reject_ordering_and_substring_operators() {
    for operator in ["gt", "ge", "lt", "le", "co", "sw", "ew"] {
        let error = try_compiled(&format!("active {operator} true"), Sqlite);
        let Err(CompileError::UnsupportedComparison(message)) = error else {
            panic!("{operator}: {error:?}");
        };
        assert_eq!(
            message,
            format!(
                "the {operator} operator cannot be applied to boolean attribute \"active\", \
                 which supports eq, ne and pr"
            )
        );
    }
}

#[test]
fn booleans_compared_with_anything_but_true_or_false_are_invalid() {
    let error = try_compiled(r#"active eq "true""#, Postgres);
    assert_eq!(
        error,
        Err(CompileError::InvalidValue(
            "boolean attribute \"active\" must be compared with true or false, not the string \
             \"true\""
                .to_owned()
        ))
    );
    assert!(matches!(
        try_compiled("active eq 1", Sqlite),
        Err(CompileError::InvalidValue(_))
    ));
}

#[test]
fn integers_compare_numerically_with_every_ordering_operator() {
    for (operator, symbol) in [
        ("eq", "="),
        ("gt", ">"),
        ("ge", ">="),
        ("lt", "<"),
        ("le", "<="),
    ] {
        assert_compiles_on_both(
            &format!("loginCount {operator} 5"),
            &format!("u.login_count {symbol} $1"),
            &[Integer(5)],
        );
    }
    assert_compiles_on_both(
        "loginCount ne -3",
        "(u.login_count IS NULL OR u.login_count <> $1)",
        &[Integer(-3)],
    );
}

#[test]
fn integers_accept_whole_numbers_written_as_decimals_but_not_fractions() {
    assert_compiles_on_both("loginCount ge 5.0", "u.login_count >= $1", &[Integer(5)]);
    assert_compiles_on_both("loginCount ge 1e3", "u.login_count >= $1", &[Integer(1000)]);
    for filter in [
        "loginCount gt 1.5",
        "loginCount gt 1e30",
        r#"loginCount gt "5""#,
    ] {
        assert!(
            matches!(
                try_compiled(filter, Sqlite),
                Err(CompileError::InvalidValue(_))
            ),
            "{filter}"
        );
    }
}

#[test]
fn decimals_compare_as_reals() {
    assert_compiles_on_both("riskScore gt 0.75", "u.risk_score > $1", &[Real(0.75)]);
    assert_compiles_on_both("riskScore le 2", "u.risk_score <= $1", &[Real(2.0)]);
    assert!(matches!(
        try_compiled("riskScore eq true", Postgres),
        Err(CompileError::InvalidValue(_))
    ));
}

#[test]
fn numbers_reject_substring_operators() {
    for filter in [
        r#"loginCount co 5"#,
        r#"riskScore sw 1"#,
        r#"loginCount ew 1"#,
    ] {
        assert!(
            matches!(
                try_compiled(filter, Sqlite),
                Err(CompileError::UnsupportedComparison(_))
            ),
            "{filter}"
        );
    }
}

#[test]
fn date_times_compare_as_utc_text_on_sqlite_and_timestamptz_on_postgres() {
    for (operator, symbol) in [
        ("eq", "="),
        ("gt", ">"),
        ("ge", ">="),
        ("lt", "<"),
        ("le", "<="),
    ] {
        let filter = format!(r#"meta.lastModified {operator} "2011-05-13T04:42:34Z""#);
        assert_compiles(
            &filter,
            Sqlite,
            &format!("u.last_modified {symbol} $1"),
            &[text("2011-05-13T04:42:34+00:00")],
        );
        assert_compiles(
            &filter,
            Postgres,
            &format!("u.last_modified {symbol} $1::timestamptz"),
            &[text("2011-05-13T04:42:34.000000Z")],
        );
    }
    assert_compiles(
        r#"meta.lastModified ne "2011-05-13T04:42:34Z""#,
        Postgres,
        "(u.last_modified IS NULL OR u.last_modified <> $1::timestamptz)",
        &[text("2011-05-13T04:42:34.000000Z")],
    );
}

#[test]
fn date_time_operands_with_an_offset_are_converted_to_utc() {
    assert_compiles(
        r#"meta.lastModified gt "2011-05-13T06:42:34.5+02:00""#,
        Sqlite,
        "u.last_modified > $1",
        &[text("2011-05-13T04:42:34.500+00:00")],
    );
}

#[test]
fn date_time_operands_finer_than_microseconds_stay_exact() {
    let operand = "2024-01-02T03:04:05.1234567Z";
    let truncated = [text("2024-01-02T03:04:05.123456+00:00")];
    for (operator, sql) in [
        ("gt", "u.last_modified > $1"),
        ("ge", "u.last_modified > $1"),
        ("lt", "u.last_modified <= $1"),
        ("le", "u.last_modified <= $1"),
    ] {
        assert_compiles(
            &format!(r#"meta.lastModified {operator} "{operand}""#),
            Sqlite,
            sql,
            &truncated,
        );
    }
    assert_compiles_on_both(
        &format!(r#"meta.lastModified eq "{operand}""#),
        "FALSE",
        &[],
    );
    assert_compiles_on_both(&format!(r#"meta.lastModified ne "{operand}""#), "TRUE", &[]);
}

#[test]
fn date_times_reject_malformed_operands_and_substring_operators() {
    let error = try_compiled(r#"meta.lastModified gt "yesterday""#, Sqlite);
    assert_eq!(
        error,
        Err(CompileError::InvalidValue(
            "dateTime attribute \"meta.lastModified\" must be compared with an RFC 3339 \
             date-time such as \"2011-05-13T04:42:34Z\", not \"yesterday\""
                .to_owned()
        ))
    );
    assert!(matches!(
        try_compiled("meta.lastModified gt 20110513", Sqlite),
        Err(CompileError::InvalidValue(_))
    ));
    assert!(matches!(
        try_compiled(r#"meta.lastModified sw "2011""#, Sqlite),
        Err(CompileError::UnsupportedComparison(_))
    ));
}

#[test]
fn strings_compared_with_non_strings_are_invalid() {
    for filter in ["title eq 5", "title eq true", "userName co 1"] {
        assert!(
            matches!(
                try_compiled(filter, Postgres),
                Err(CompileError::InvalidValue(_))
            ),
            "{filter}"
        );
    }
}

#[test]
fn ids_compare_as_uuids_in_any_case() {
    let bytes = [
        0x01, 0x9a, 0x3f, 0x2e, 0x7c, 0x10, 0x7d, 0x3e, 0x8a, 0x11, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6,
        0x07,
    ];
    assert_compiles_on_both(
        r#"id eq "019A3F2E-7c10-7d3e-8a11-b2c3d4e5f607""#,
        "u.id = $1",
        &[crate::fragment::SqlValue::Uuid(bytes)],
    );
}

#[test]
fn an_id_that_is_no_uuid_matches_nothing_with_eq_and_everything_with_ne() {
    assert_compiles_on_both(r#"id eq "2819c223""#, "1 = 0", &[]);
    assert_compiles_on_both(r#"id ne "2819c223""#, "u.id IS NOT NULL", &[]);
    assert_compiles_on_both(
        r#"id eq "019a3f2e-7c10-7d3e-8a11-b2c3d4e5f6zz""#,
        "1 = 0",
        &[],
    );
    assert_compiles_on_both("id pr", "u.id IS NOT NULL", &[]);
}

#[test]
fn ids_reject_ordering_and_substring_operators_and_non_strings() {
    for operator in ["gt", "co", "sw"] {
        let error = try_compiled(&format!(r#"id {operator} "x""#), Sqlite);
        assert!(
            matches!(error, Err(CompileError::UnsupportedComparison(_))),
            "{operator}: {error:?}"
        );
    }
    assert!(matches!(
        try_compiled("id eq 5", Postgres),
        Err(CompileError::InvalidValue(_))
    ));
}
