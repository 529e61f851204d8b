//! Normalising a filter's DateTime operand (RFC 7643 §2.3.5: an `xsd:dateTime`, in practice
//! RFC 3339) to the spelling each store compares: on PostgreSQL UTC text with six fractional
//! digits and `Z` (`2011-05-13T04:42:34.000000Z`), cast to `timestamptz`; on SQLite, where
//! timestamps are text, exactly the shape sqlx writes (see `sqlite_text`), so that text
//! comparison is instant comparison. Done here rather than with a date library because the crate keeps its
//! dependencies to JSON and errors, and the arithmetic is a few lines of proleptic Gregorian.

/// A date-time operand as a UTC instant with microsecond precision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NormalizedDateTime {
    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    pub(crate) text: String,
    /// The same instant as SQLite holds it: sqlx writes a `DateTime<Utc>` as RFC 3339 with
    /// `+00:00` and only the fractional digits it needs, in groups of three
    /// (`…:34+00:00`, `…:34.500+00:00`, `…:34.000100+00:00`). Text comparison then orders
    /// instants correctly (the `+` sorts below every digit), so an operand spelled the same way
    /// compares exactly with `=`, `<` and `>`.
    pub(crate) sqlite_text: String,
    /// The operand had non-zero digits beyond the sixth fractional one, so it lies strictly
    /// between `text` and the next microsecond; no stored (microsecond) value equals it.
    pub(crate) finer_than_stored: bool,
}

const SECONDS_PER_DAY: i64 = 86_400;

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]` (a lower-case `t`/`z` too, as RFC 3339
/// §5.6 allows). A missing offset is read as UTC, as `xsd:dateTime` leaves it unspecified and
/// clients that omit it mean UTC in practice. A leap second (`:60`) rolls into the next
/// minute, as PostgreSQL does. `None` when the text is not such a date-time, names an
/// impossible date, or falls outside years 0001–9999 once converted to UTC.
pub(crate) fn normalize_date_time(text: &str) -> Option<NormalizedDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let year = digits(bytes, 0, 4)?;
    let month = digits(bytes, 5, 2)?;
    let day = digits(bytes, 8, 2)?;
    let hour = digits(bytes, 11, 2)?;
    let minute = digits(bytes, 14, 2)?;
    let second = digits(bytes, 17, 2)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }

    let mut rest = &bytes[19..];
    let mut microseconds = 0;
    let mut finer_than_stored = false;
    if let Some(after_point) = rest.strip_prefix(b".") {
        let fraction_length = after_point
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if fraction_length == 0 {
            return None;
        }
        let (fraction, after_fraction) = after_point.split_at(fraction_length);
        for position in 0..6 {
            let digit = fraction.get(position).map_or(0, |byte| byte - b'0');
            microseconds = microseconds * 10 + i64::from(digit);
        }
        finer_than_stored = fraction.iter().skip(6).any(|byte| *byte != b'0');
        rest = after_fraction;
    }
    let offset_seconds = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let offset_hours = digits(rest, 1, 2)?;
            let offset_minutes = digits(rest, 4, 2)?;
            if offset_hours > 23 || offset_minutes > 59 {
                return None;
            }
            let magnitude = offset_hours * 3600 + offset_minutes * 60;
            if *sign == b'-' { -magnitude } else { magnitude }
        }
        _ => return None,
    };

    let local_seconds =
        days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
    let utc_seconds = local_seconds - offset_seconds;
    let (utc_year, utc_month, utc_day) = civil_from_days(utc_seconds.div_euclid(SECONDS_PER_DAY));
    if !(1..=9999).contains(&utc_year) {
        return None;
    }
    let second_of_day = utc_seconds.rem_euclid(SECONDS_PER_DAY);
    let whole_seconds = format!(
        "{utc_year:04}-{utc_month:02}-{utc_day:02}T{:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
    );
    let sqlite_fraction = match microseconds {
        0 => String::new(),
        _ if microseconds % 1000 == 0 => format!(".{:03}", microseconds / 1000),
        _ => format!(".{microseconds:06}"),
    };
    Some(NormalizedDateTime {
        text: format!("{whole_seconds}.{microseconds:06}Z"),
        sqlite_text: format!("{whole_seconds}{sqlite_fraction}+00:00"),
        finer_than_stored,
    })
}

/// The decimal number in `bytes[start..start + length]`, which must be all ASCII digits.
fn digits(bytes: &[u8], start: usize, length: usize) -> Option<i64> {
    let field = bytes.get(start..start + length)?;
    field.iter().try_fold(0, |value, byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + i64::from(byte - b'0'))
    })
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let shifted_year = if month <= 2 { year - 1 } else { year };
    let era = shifted_year.div_euclid(400);
    let year_of_era = shifted_year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of `days_from_civil`: (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted_days = days + 719_468;
    let era = shifted_days.div_euclid(146_097);
    let day_of_era = shifted_days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(text: &str) -> String {
        match normalize_date_time(text) {
            Some(date_time) => date_time.text,
            None => panic!("{text} should be a valid date-time"),
        }
    }

    #[test]
    fn utc_values_gain_six_fractional_digits() {
        assert_eq!(
            normalized("2011-05-13T04:42:34Z"),
            "2011-05-13T04:42:34.000000Z"
        );
        assert_eq!(
            normalized("2026-11-29T03:40:19.123456Z"),
            "2026-11-29T03:40:19.123456Z"
        );
        assert_eq!(
            normalized("2026-11-29t03:40:19.5z"),
            "2026-11-29T03:40:19.500000Z"
        );
    }

    #[test]
    fn offsets_are_converted_to_utc_across_day_month_and_year_boundaries() {
        assert_eq!(
            normalized("2011-05-13T04:42:34+02:00"),
            "2011-05-13T02:42:34.000000Z"
        );
        assert_eq!(
            normalized("2011-05-13T23:30:00-01:00"),
            "2011-05-14T00:30:00.000000Z"
        );
        assert_eq!(
            normalized("2024-03-01T00:15:00+00:30"),
            "2024-02-29T23:45:00.000000Z"
        );
        assert_eq!(
            normalized("2020-12-31T23:00:00-05:00"),
            "2021-01-01T04:00:00.000000Z"
        );
    }

    #[test]
    fn a_missing_offset_means_utc() {
        assert_eq!(
            normalized("2011-05-13T04:42:34"),
            "2011-05-13T04:42:34.000000Z"
        );
    }

    #[test]
    fn a_leap_second_rolls_into_the_next_minute() {
        assert_eq!(
            normalized("2016-12-31T23:59:60Z"),
            "2017-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn digits_beyond_microseconds_are_flagged_unless_zero() {
        let dotnet = normalize_date_time("2024-01-02T03:04:05.1234560Z");
        assert_eq!(
            dotnet,
            Some(NormalizedDateTime {
                text: "2024-01-02T03:04:05.123456Z".to_owned(),
                sqlite_text: "2024-01-02T03:04:05.123456+00:00".to_owned(),
                finer_than_stored: false,
            })
        );
        let finer = normalize_date_time("2024-01-02T03:04:05.1234567Z");
        assert_eq!(
            finer,
            Some(NormalizedDateTime {
                text: "2024-01-02T03:04:05.123456Z".to_owned(),
                sqlite_text: "2024-01-02T03:04:05.123456+00:00".to_owned(),
                finer_than_stored: true,
            })
        );
    }

    #[test]
    fn sqlite_text_has_the_fraction_digits_sqlx_writes() {
        let sqlite = |text: &str| normalize_date_time(text).expect("valid").sqlite_text;
        assert_eq!(sqlite("2024-01-02T03:04:05Z"), "2024-01-02T03:04:05+00:00");
        assert_eq!(
            sqlite("2024-01-02T03:04:05.5Z"),
            "2024-01-02T03:04:05.500+00:00"
        );
        assert_eq!(
            sqlite("2024-01-02T05:04:05.0001+02:00"),
            "2024-01-02T03:04:05.000100+00:00"
        );
        assert_eq!(
            sqlite("2024-01-02T03:04:05.123456Z"),
            "2024-01-02T03:04:05.123456+00:00"
        );
    }

    #[test]
    fn day_counts_round_trip_over_four_centuries() {
        for days in (-719_162..2_932_896).step_by(97) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn malformed_or_impossible_values_are_rejected() {
        for text in [
            "",
            "2011-05-13",
            "2011-05-13 04:42:34Z",
            "2011-5-13T04:42:34Z",
            "2011-13-01T00:00:00Z",
            "2011-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2011-04-31T00:00:00Z",
            "2011-05-13T24:00:00Z",
            "2011-05-13T04:60:00Z",
            "2011-05-13T04:42:61Z",
            "2011-05-13T04:42:34.Z",
            "2011-05-13T04:42:34+0200",
            "2011-05-13T04:42:34+24:00",
            "2011-05-13T04:42:34ZZ",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "２０１１-05-13T04:42:34Z",
        ] {
            assert_eq!(normalize_date_time(text), None, "{text}");
        }
        assert_eq!(
            normalized("2000-02-29T00:00:00Z"),
            "2000-02-29T00:00:00.000000Z"
        );
    }
}
