//! What the benches read from the environment and how they print timings
//! (`#[path]`-included).

use std::str::FromStr;

/// The variable `name` parsed, or `default` when it is not set; a value that does not parse
/// stops the bench rather than being ignored.
pub fn env_or<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a valid value")),
        Err(_) => default,
    }
}

/// The comma-separated list in the variable `name` (else in `default`), blank items skipped;
/// an item that does not parse stops the bench.
pub fn env_list<T: FromStr>(name: &str, default: &str) -> Vec<T> {
    let text = std::env::var(name).unwrap_or_else(|_| default.to_owned());
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse()
                .unwrap_or_else(|_| panic!("{name}: {item:?} is not a valid value"))
        })
        .collect()
}

/// The backends to measure: `GATEHOUSE_BENCH_BACKENDS`, `sqlite,postgres` unless set.
pub fn backends() -> Vec<String> {
    env_list("GATEHOUSE_BENCH_BACKENDS", "sqlite,postgres")
}

/// The nearest-rank `percent`-th percentile of `sorted` samples (not empty).
pub fn percentile<T: Copy>(sorted: &[T], percent: usize) -> T {
    sorted[(sorted.len() * percent).div_ceil(100).max(1) - 1]
}

/// Milliseconds with two, one or no decimals, as their size calls for.
pub fn ms(millis: f64) -> String {
    if millis < 10.0 {
        format!("{millis:.2} ms")
    } else if millis < 100.0 {
        format!("{millis:.1} ms")
    } else {
        format!("{millis:.0} ms")
    }
}
