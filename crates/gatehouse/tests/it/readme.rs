//! The README's configuration table and the binary's settings agree: every `GATEHOUSE_*`
//! variable the binary reads is in the table, with its flag and default, and the table lists
//! nothing the binary doesn't read.

use std::collections::BTreeMap;
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_gatehouse");

/// `--flag` → (variable, default) as `--help` prints them.
fn settings_from_help(arguments: &[&str]) -> BTreeMap<String, (String, Option<String>)> {
    let output = Command::new(BINARY)
        .args(arguments)
        .output()
        .expect("run --help");
    let help = String::from_utf8(output.stdout).expect("utf-8");
    let mut settings = BTreeMap::new();
    let mut flag: Option<String> = None;
    for line in help.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("--") {
            flag = Some(format!(
                "--{}",
                rest.split([' ', '<']).next().unwrap_or_default()
            ));
        }
        if let (Some(current), Some(start)) = (&flag, line.find("[env: ")) {
            let variable = line[start + 6..]
                .split(['=', ']'])
                .next()
                .unwrap_or_default()
                .to_owned();
            let default = line.find("[default: ").map(|at| {
                line[at + 10..]
                    .split(']')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            });
            settings.insert(current.clone(), (variable, default));
            flag = None;
        }
    }
    settings
}

#[test]
fn readme_configuration_table_matches_the_binary() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README");
    let mut from_binary = settings_from_help(&["--help"]);
    from_binary.extend(settings_from_help(&["serve", "--help"]));
    assert!(from_binary.len() >= 7, "{from_binary:?}");

    let table_rows: Vec<Vec<String>> = readme
        .lines()
        .skip_while(|line| !line.starts_with("## Configuration"))
        .filter(|line| line.starts_with("| `--"))
        .map(|line| {
            line.split('|')
                .map(|cell| cell.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect();
    for (flag, (variable, default)) in &from_binary {
        let row = table_rows
            .iter()
            .find(|row| row.get(1) == Some(flag))
            .unwrap_or_else(|| panic!("{flag} is missing from the README's configuration table"));
        assert_eq!(&row[2], variable, "{flag}");
        if let Some(default) = default {
            assert_eq!(&row[3], default, "default of {flag}");
        }
    }
    for row in &table_rows {
        assert!(
            from_binary.contains_key(&row[1]),
            "README lists {} which the binary does not have",
            row[1]
        );
    }
}
