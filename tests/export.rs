//! `rules export` goldens and the KQL syntax check (issue 7).
//!
//! The builtin rule table exported to every target (KQL once per table) is
//! compared with `tests/export/<name>.<target>`; `PULLSCAN_BLESS=1 cargo
//! test --test integration export` rewrites them (review the diff).
//!
//! The KQL goldens are then parsed and analysed by the Kusto language
//! service (`tests/kql/check.js`, npm package pinned in
//! `tests/kql/package.json` and installed by `npm ci` on first run): any
//! diagnostic fails the test, and a broken query must fail the same check.
//! The LogQL golden is parsed by Grafana's Lezer grammar for LogQL
//! (`tests/kql/check-logql.js`, same package.json) the same way. SPL has
//! no parser we can run; its shape is checked here.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pullscan::export::{export, KqlTable, Target};
use pullscan::rules;

use crate::util::{path, write};

/// Every golden: file name, target, table.
fn cases() -> Vec<(String, Target, KqlTable)> {
    let mut cases: Vec<_> =
        KqlTable::ALL.iter().map(|&t| (format!("{}.kql", t.name()), Target::Kql, t)).collect();
    cases.push(("pullscan.logql".into(), Target::Logql, KqlTable::default()));
    cases.push(("pullscan.spl".into(), Target::Spl, KqlTable::default()));
    cases
}

fn exported(target: Target, table: KqlTable) -> String {
    let set = rules::builtin().expect("builtin rules load");
    let mut out = Vec::new();
    export(&set, target, table, &mut out).expect("builtin rules export");
    String::from_utf8(out).expect("queries are UTF-8")
}

fn golden_dir() -> PathBuf {
    path("tests/export")
}

#[test]
fn export_goldens() {
    let bless = std::env::var_os("PULLSCAN_BLESS").is_some_and(|v| !v.is_empty());
    let mut problems = Vec::new();
    for (name, target, table) in cases() {
        let actual = exported(target, table);
        let file = golden_dir().join(&name);
        if bless {
            write(&file, &actual);
            continue;
        }
        match std::fs::read_to_string(&file) {
            Err(_) => problems.push(format!("{name}: no golden (PULLSCAN_BLESS=1 writes it)")),
            Ok(expected) if expected != actual => {
                let first = expected.lines().zip(actual.lines()).position(|(a, b)| a != b);
                let at = first.unwrap_or(expected.lines().count().min(actual.lines().count()));
                problems.push(format!(
                    "{name}: differs from the golden at line {}:\n- {}\n+ {}",
                    at + 1,
                    expected.lines().nth(at).unwrap_or("<end>"),
                    actual.lines().nth(at).unwrap_or("<end>"),
                ));
            }
            Ok(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every KQL export keeps the winner order and filters what pullscan does
/// not report.
#[test]
fn export_kql_shape() {
    let q = exported(Target::Kql, KqlTable::ContainerLogV2);
    assert!(q.contains("ContainerLogV2\n| extend msg = tostring(LogMessage)\n"));
    let token = q.find("auth.unauthorized.token-endpoint\"").expect("a priority 80 rule");
    let status = q.find("auth.unauthorized.status-401\"").expect("a priority 40 rule");
    let pulled = q.find("ok.pulled.success\"").expect("the success rule");
    assert!(pulled < token && token < status, "priority order");
    assert!(q.contains("| where cause !in (") && q.contains("\"ok.pulled\""));
    assert!(q.contains("and pull_context,"), "needs_pull_context rules");
    assert!(q.contains("\"unclassified unclassified\""));
}

#[test]
fn export_logql_and_spl_shape() {
    let l = exported(Target::Logql, KqlTable::default());
    assert!(l.starts_with('#'));
    assert!(l.contains("| label_format cause=`{{ $ctx := (count "));
    assert!(l.contains("{{ end }}`\n"));
    assert!(l.contains("| regexp `(?i)") && l.contains("(?P<image>"));
    // Every `{{` closes, every ( in templates balances: a cheap structure
    // check in place of a Loki server.
    assert_eq!(l.matches("{{").count(), l.matches("}}").count());
    let s = exported(Target::Spl, KqlTable::default());
    assert!(s.contains("| eval verdict=case(\n    debug==1, \"\",\n"));
    assert!(s.contains("    true(), \"\")\n"));
    let code = outside_strings(&s);
    assert_eq!(code.matches('(').count(), code.matches(')').count(), "SPL parentheses");
}

/// The SPL text without its string literals (regexes may hold unbalanced
/// escaped parentheses): the query's own parentheses must balance.
fn outside_strings(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_str = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_str => {
                chars.next();
            }
            '"' => in_str = !in_str,
            c if !in_str => out.push(c),
            _ => {}
        }
    }
    assert!(!in_str, "an SPL string is not closed");
    out
}

// ------------------------------------------------- the Kusto parser check

fn kql_dir() -> PathBuf {
    path("tests/kql")
}

/// `npm ci` in tests/kql when the language service is not installed yet.
fn ensure_language_service(dir: &Path) {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "Node.js is not installed: the KQL check needs `node` and `npm` on PATH \
         (https://nodejs.org); it is not skipped"
    );
    let installed = ["@kusto/language-service-next", "@grafana/lezer-logql"]
        .iter()
        .all(|p| dir.join("node_modules").join(p).join("package.json").exists());
    if installed {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .expect("npm runs (it comes with Node.js)");
    assert!(status.success(), "npm ci in {} failed", dir.display());
}

/// Run check.js on files (or `-` with stdin); status and output.
fn check_kql(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    run_check("check.js", args, stdin)
}

/// Run a checker script of tests/kql on files (or `-` with stdin).
fn run_check(script: &str, args: &[&str], stdin: Option<&str>) -> (bool, String) {
    use std::io::Write;
    let dir = kql_dir();
    ensure_language_service(&dir);
    let mut child = Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs check.js");
    let mut input = child.stdin.take().expect("piped stdin");
    input.write_all(stdin.unwrap_or("").as_bytes()).expect("write stdin");
    drop(input);
    let out = child.wait_with_output().expect("check.js finishes");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn export_kql_parses_without_diagnostics() {
    let files: Vec<String> = KqlTable::ALL
        .iter()
        .map(|t| golden_dir().join(format!("{}.kql", t.name())).display().to_string())
        .collect();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let (ok, out) = check_kql(&args, None);
    assert!(ok, "the Kusto language service reports:\n{out}");
    assert_eq!(out.matches("ok (0 diagnostics)").count(), files.len(), "{out}");
    // The goldens are what export writes now (the golden test checks it
    // too, but this test must not pass on stale files).
    for t in KqlTable::ALL {
        let golden = std::fs::read_to_string(golden_dir().join(format!("{}.kql", t.name())));
        assert_eq!(golden.ok().as_deref(), Some(exported(Target::Kql, t).as_str()));
    }
}

#[test]
fn export_kql_check_rejects_broken_queries() {
    let good = exported(Target::Kql, KqlTable::KubeEvents);
    // A syntax error: an unclosed case(.
    let broken = good.replacen("    \"\")\n", "    \"\"\n", 1);
    assert_ne!(broken, good);
    let (ok, out) = check_kql(&["-"], Some(&broken));
    assert!(!ok, "a broken query passed:\n{out}");
    assert!(out.contains("Error"), "{out}");
    // A semantic error: a column the table does not have.
    let wrong = good.replacen("tostring(Message)", "tostring(Log_s)", 1);
    let (ok, out) = check_kql(&["-"], Some(&wrong));
    assert!(!ok && out.contains("Log_s"), "{out}");
}

#[test]
fn export_logql_parses_without_errors() {
    let file = golden_dir().join("pullscan.logql").display().to_string();
    let (ok, out) = run_check("check-logql.js", &[&file], None);
    assert!(ok && out.contains("ok (0 syntax errors)"), "Lezer LogQL grammar reports:\n{out}");
    // And the same check rejects a broken query: a range without its
    // range aggregation's closing parenthesis.
    let broken = exported(Target::Logql, KqlTable::default()).replacen("  [1h])\n", "  [1h]\n", 1);
    let (ok, out) = run_check("check-logql.js", &["-"], Some(&broken));
    assert!(!ok && out.contains("syntax error"), "a broken query passed:\n{out}");
}
